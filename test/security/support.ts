/**
 * Shared by the security suite: the documented error contract (read from README.md's error table at
 * run time, never from common/errors.ts), the response checks every security test applies (status,
 * codes, no leaked SQL, stack traces, warehouse messages or internal URLs), raw HTTP to the
 * gateway, and scans for another tenant's secrets.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  TypeMetaFieldDef,
  getNamedType,
  isLeafType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import type { JWTPayload } from 'jose';
import { generateDirectory, type GeneratorOptions, appCatalog } from '../../okta/generator';
import { signJwt } from '../gateway/harness';

const ROOT = path.resolve(__dirname, '../..');

// ── The documented contract ─────────────────────────────────────────────────────────────────────

export interface DocumentedErrors {
  /** Code → the HTTP statuses its README row names (e.g. BAD_USER_INPUT → [200, 400]). */
  readonly codes: ReadonlyMap<string, readonly number[]>;
  /** Every status the table names, plus 200. */
  readonly statuses: ReadonlySet<number>;
}

/**
 * The `## Error codes` table of README.md (`| code | HTTP | when |`), cross-checked against the
 * public contract's list in ../shared/ARCHITECTURE.md when that file is present.
 */
export function documentedErrors(): DocumentedErrors {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = /^## Error codes\s*$([\s\S]*?)^## /m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Error codes" section');
  const codes = new Map<string, number[]>();
  for (const row of section.matchAll(/^\|\s*`([A-Z_]+)`\s*\|([^|]*)\|/gm)) {
    codes.set(row[1], [...row[2].matchAll(/\b([1-5]\d\d)\b/g)].map((m) => Number(m[1])));
  }
  if (codes.size === 0) throw new Error('README.md error table has no rows');
  const architecture = path.join(ROOT, '../shared/ARCHITECTURE.md');
  if (fs.existsSync(architecture)) {
    const errors = /\*\*Errors\*\*([\s\S]*?)\n\n/.exec(fs.readFileSync(architecture, 'utf8'))?.[1] ?? '';
    for (const [, code] of errors.matchAll(/`([A-Z_]{4,})`/g)) {
      if (!codes.has(code)) throw new Error(`ARCHITECTURE.md documents ${code}, README.md's table does not`);
    }
  }
  return { codes, statuses: new Set([200, ...[...codes.values()].flat()]) };
}

// ── Leaks ───────────────────────────────────────────────────────────────────────────────────────

/**
 * What no response may contain unless the request itself did (an echoed argument is not a leak):
 * SQL, warehouse and database error classes, internal table names, stack traces, source paths,
 * internal URLs.
 */
export const LEAK_PATTERNS: readonly RegExp[] = [
  // DuckDB's error classes (https://duckdb.org/docs/stable/dev/internal_errors) and its name
  /\b(Binder|Parser|Catalog|Conversion|Invalid Input|Out of Range|Constraint|Serialization|Dependency|Transaction(Context)?|Not implemented|IO|INTERNAL|Permission|Sequence|Interrupt|Fatal) Error\b/,
  /duckdb/i,
  // BigQuery / Google API errors
  /googleapis|bytesBilledLimitExceeded|invalidQuery|jobInternalError|accessDenied/i,
  // PostgreSQL and Redis errors
  /syntax error at or near|relation "[^"]*" does not exist|duplicate key value|violates .* constraint|invalid byte sequence for encoding|invalid input syntax for|\bpg_|WRONGTYPE|NOSCRIPT|ERR (wrong|unknown|syntax)/i,
  // SQL text and the warehouse's own tables and parameters
  /\bSELECT\s|\bINSERT\s+INTO\b|\bUNION ALL\b|\bWITH RECURSIVE\b|json_serialize_sql|CAST\(\$|\bunnest\(/i,
  /\b(sso_events|productivity_daily|_partition_stats|tenant_info|_ingest_log)\b/,
  // stack traces and source locations
  /\n\s+at\s|\bat (async )?[\w$.<>]+ \(|at \/|node_modules|\/work\/|\.(ts|js|mjs|cjs):\d+/,
  /"stacktrace"|"exception"/,
  // internal topology: subgraph URLs behind the gateway
  /https?:\/\/(127\.0\.0\.1|localhost|0\.0\.0\.0)(:\d+)?/,
];

/** The patterns `responseText` matches that `requestText` does not (case-insensitively) contain, nor `stored`. */
export function leaksIn(responseText: string, requestText: string, stored: (fragment: string) => boolean = () => false): string[] {
  const found: string[] = [];
  for (const pattern of LEAK_PATTERNS) {
    const match = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(responseText);
    if (!match) continue;
    const fragment = match[0].toLowerCase().trim();
    if (requestText.toLowerCase().includes(fragment) || stored(fragment)) continue;
    found.push(`${pattern.source.slice(0, 40)} matched ${JSON.stringify(match[0])} near ${JSON.stringify(around(responseText, match.index))}`);
  }
  return found;
}

// ── The contract checks ─────────────────────────────────────────────────────────────────────────

export interface HttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** Parsed JSON, undefined when the body is empty or not JSON. */
  readonly body: any;
}

export interface ContractOptions {
  /** Everything the client sent (body, query string, headers): what a response may echo. */
  readonly requestText: string;
  /** What earlier requests stored and this response may legitimately return (e.g. audit reasons). */
  readonly stored?: (fragment: string) => boolean;
  /** Codes that are wrong for this request even though documented (e.g. INTERNAL_SERVER_ERROR). */
  readonly forbiddenCodes?: readonly string[];
}

/**
 * What every response to a hostile request must satisfy: a JSON body; HTTP 200 or
 * a status the error table documents (a non-200 only with a code documented for it); every error an
 * object with a message and a documented `extensions.code`; no stack trace; no leak.
 */
export function contractViolations(response: HttpResponse, documented: DocumentedErrors, options: ContractOptions): string[] {
  const violations: string[] = [];
  const { status, body } = response;
  if (!documented.statuses.has(status)) violations.push(`HTTP ${status} is not a documented status`);
  if (body === undefined) {
    violations.push(`body is not JSON (${response.contentType}): ${JSON.stringify(response.text.slice(0, 120))}`);
    return violations;
  }
  if (!/application\/(graphql-response\+)?json/.test(response.contentType)) violations.push(`content-type ${response.contentType}`);
  // An HTTP batch answers an array: each slot is checked as an answer of its own.
  const answers: any[] = Array.isArray(body) ? body : [body];
  const errors: any[] = answers.flatMap((answer) => (Array.isArray(answer?.errors) ? answer.errors : []));
  for (const answer of answers) if (answer?.errors !== undefined && !Array.isArray(answer.errors)) violations.push('errors is not a list');
  if (status !== 200 && errors.length === 0) violations.push(`HTTP ${status} without errors`);
  const codes = errors.map((error) => error?.extensions?.code);
  for (const [i, error] of errors.entries()) {
    if (typeof error?.message !== 'string') violations.push(`errors[${i}] has no message`);
    const code = codes[i];
    if (typeof code !== 'string' || !documented.codes.has(code)) violations.push(`errors[${i}] code ${JSON.stringify(code)} is not documented`);
    if (options.forbiddenCodes?.includes(code)) violations.push(`errors[${i}] code ${code} for a client's request: ${String(error?.message).slice(0, 160)}`);
    if (error?.extensions?.stacktrace !== undefined || error?.extensions?.exception !== undefined) violations.push(`errors[${i}] carries a stack trace`);
  }
  if (status !== 200 && errors.length > 0 && status >= 300) {
    const fits = codes.some((code) => documented.codes.get(code)?.includes(status));
    if (!fits) violations.push(`HTTP ${status} with codes ${JSON.stringify(codes)}, which the table documents with other statuses`);
  }
  if (status >= 500 && !codes.some((code) => documented.codes.get(code)?.includes(status))) violations.push(`HTTP ${status}`);
  // `extensions.cost.jobs` (x-cost-mode: estimate) names tables and columns on purpose (README, "extensions.cost").
  const withoutJobs = (answer: any) => ({ ...answer, extensions: { ...answer.extensions, cost: { ...answer.extensions.cost, jobs: undefined } } });
  const scanned = answers.some((answer) => answer?.extensions?.cost?.jobs !== undefined)
    ? JSON.stringify(answers.map((answer) => (answer?.extensions?.cost?.jobs !== undefined ? withoutJobs(answer) : answer)))
    : response.text;
  violations.push(...leaksIn(scanned, options.requestText, options.stored));
  return violations;
}

// ── Hostile input ───────────────────────────────────────────────────────────────────────────────

/**
 * Strings attackers try in arguments: SQL for DuckDB, BigQuery and PostgreSQL (quotes, comments,
 * stacked statements, UNION, parameter and identifier syntax, file and extension access), template
 * and format strings, path traversal, other tenants' names, control characters, NUL, bidi and
 * combining marks, astral and unpaired UTF-16, and very long strings.
 */
export const HOSTILE_STRINGS: readonly string[] = [
  "' OR '1'='1", "' OR 1=1 --", "') OR ('1'='1", "1' AND SLEEP(5) --", "' || pg_sleep(5) --",
  "'; DROP TABLE users; --", '"; DROP TABLE sso_events; --', '); DROP TABLE budget_audit; --',
  "x' UNION ALL SELECT id, email, display_name, department, manager_id FROM users --",
  '1; SELECT * FROM productivity_daily', "' ; DELETE FROM users WHERE '1'='1",
  "ATTACH '/tmp/pwn.db' AS pwn", 'INSTALL httpfs; LOAD httpfs;', "read_csv('/etc/passwd')", "COPY users TO '/tmp/x.csv'",
  '`users`', '`rm -rf /`', '"users"', '[users]', '$1', '$userIds', '@fromDay', '@@version', '?', ':tenant',
  '%s%s%s%n', '%00', '{{7*7}}', '${7*7}', '#{7*7}', '\\', "\\'", "'", '"', '\\u0000',
  '\u0000', 'a\u0000b', '\u202e\u202dtxt.exe', '\ud800', '\udfff\ud800', '😀', '𝕬𝖈𝖒𝖊', 'ﬀ', 'e\u0301', 'Ω≈ç√∫',
  '\u2028\u2029', '\ufeff', '\t\n\r', '\r\n\r\n', ' ', '', '<script>alert(1)</script>', '../../etc/passwd', '..\\..\\boot.ini',
  'acme', 'globex', 'tenant', 'executive', '*', '%', '_', 'NULL', 'null', 'undefined', 'true', '0', '-1', '[]', '{}',
  '{"$ne": null}', '__proto__', 'constructor', 'acme:topTimeWasters:', '["tenant"]',
  'x'.repeat(10_000), 'ü'.repeat(3_000), `00u${'A'.repeat(300)}`,
];

// ── The schema's arguments ──────────────────────────────────────────────────────────────────────

/** One argument of one field, and how an operation reaches that field from its root type. */
export interface ArgumentSite {
  readonly operation: 'query' | 'mutation';
  /** e.g. `Tenant.eventCounts(eventType:)` */
  readonly coordinate: string;
  readonly argument: GraphQLArgument;
  readonly field: GraphQLField<unknown, unknown>;
  /** The fields from the root to the field's parent type, each with its arguments. */
  readonly path: readonly GraphQLField<unknown, unknown>[];
}

/**
 * Every argument whose type (unwrapped) `wanted` accepts, on every field reachable from Query and
 * Mutation — found by walking the schema breadth-first, so each parent type is reached by its
 * shortest path — plus the `__type(name:)` meta-field graphql-js adds to every query root.
 */
export function argumentSites(schema: GraphQLSchema, wanted: (type: GraphQLNamedType) => boolean): ArgumentSite[] {
  const sites: ArgumentSite[] = [];
  const roots = [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const;
  for (const [operation, root] of roots) {
    if (!root) continue;
    const reached = new Map<string, GraphQLField<unknown, unknown>[]>([[root.name, []]]);
    const queue: GraphQLObjectType[] = [root];
    while (queue.length > 0) {
      const type = queue.shift()!;
      const path = reached.get(type.name)!;
      const fields = [...Object.values(type.getFields()), ...(type === schema.getQueryType() ? [TypeMetaFieldDef] : [])];
      for (const field of fields) {
        for (const argument of field.args) {
          if (wanted(getNamedType(argument.type))) sites.push({ operation, coordinate: `${type.name}.${field.name}(${argument.name}:)`, argument, field, path });
        }
        const target = getNamedType(field.type);
        if (isObjectType(target) && !reached.has(target.name) && !target.name.startsWith('__')) {
          reached.set(target.name, [...path, field]);
          queue.push(target);
        }
      }
    }
  }
  return sites;
}

/**
 * The operation that sets `site`'s argument to `valueText` (a literal or `$variable`), every other
 * required argument on the way filled by `fill` (and optional ones `optional` gives a value),
 * selecting the field's scalars (and its objects' scalars one level down) so any data it returns is
 * in the response.
 */
export function siteOperation(
  site: ArgumentSite,
  valueText: string,
  fill: (argument: GraphQLArgument) => string,
  variableDefinitions = '',
  optional: (argument: GraphQLArgument, field: GraphQLField<unknown, unknown>) => string | undefined = () => undefined,
): string {
  const args = (field: GraphQLField<unknown, unknown>, target?: GraphQLArgument) => {
    const given = field.args.flatMap((a) => {
      if (a === target) return [`${a.name}: ${valueText}`];
      if (isNonNullType(a.type)) return [`${a.name}: ${fill(a)}`];
      const value = optional(a, field);
      return value === undefined ? [] : [`${a.name}: ${value}`];
    });
    return given.length ? `(${given.join(', ')})` : '';
  };
  let text = `${site.field.name}${args(site.field, site.argument)}${selectionOf(getNamedType(site.field.type), 2)}`;
  for (const field of [...site.path].reverse()) text = `${field.name}${args(field)} { ${text} }`;
  return `${site.operation}${variableDefinitions} { ${text} }`;
}

// ── HTTP ────────────────────────────────────────────────────────────────────────────────────────

export interface RawRequest {
  readonly method?: string;
  /** Appended to the gateway URL, e.g. `?query=…`. */
  readonly search?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** Sends `request` to `url` as is and reads the whole answer. */
export async function send(url: string, request: RawRequest, timeoutMs = 30_000): Promise<HttpResponse> {
  const response = await fetch(url + (request.search ?? ''), {
    method: request.method ?? 'POST',
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, body };
}

/** Everything a request carries that a response could legitimately echo. */
export function requestTextOf(request: RawRequest): string {
  let search = request.search ?? '';
  try {
    search = decodeURIComponent(search.replace(/\+/g, ' '));
  } catch {
    // keep it raw
  }
  const body = request.body ?? '';
  let decoded = '';
  try {
    decoded = collectStrings(JSON.parse(body)).join('\n'); // the strings as the server reads them, unescaped
  } catch {
    // not JSON
  }
  return [search, body, decoded, ...Object.values(request.headers ?? {})].join('\n');
}

// ── Tokens ──────────────────────────────────────────────────────────────────────────────────────

/** An HS256 token with exactly `claims`, signed with `secret`. */
export function hs256(claims: JWTPayload, secret: string): Promise<string> {
  return signJwt(claims, new TextEncoder().encode(secret), 'HS256');
}

/** An unsigned JWT (`alg: none`), as attackers send them. */
export function unsignedJwt(claims: JWTPayload): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** `token` with its payload replaced by `claims`, the original signature kept. */
export function tamperedJwt(token: string, claims: JWTPayload): string {
  const [header, , signature] = token.split('.');
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

// ── Tenant secrets ──────────────────────────────────────────────────────────────────────────────

/**
 * What belongs to tenant `owner` and must never reach a caller of tenant `other`: every user id and
 * email, the display names and app ids `other` does not also have, and the email domain.
 */
export function tenantSecrets(owner: GeneratorOptions, other: GeneratorOptions): string[] {
  const mine = generateDirectory(owner);
  const theirs = generateDirectory(other);
  const theirNames = new Set(theirs.map((u) => u.displayName));
  const theirApps = new Set(appCatalog(other).map((a) => a.id));
  return [
    ...mine.map((u) => u.id),
    ...mine.map((u) => u.email),
    ...mine.map((u) => u.displayName).filter((name) => !theirNames.has(name)),
    ...appCatalog(owner).map((a) => a.id).filter((id) => !theirApps.has(id)),
    `${owner.tenant}.example.com`,
  ];
}

/** The secrets found in `responseText` that `requestText` did not carry itself. */
export function secretsIn(responseText: string, secrets: readonly string[], requestText = ''): string[] {
  return secrets.filter((secret) => responseText.includes(secret) && !requestText.includes(secret));
}

// Private:

/** ` { scalar fields… object { scalar fields… } }` for composite types, '' for leaves. */
function selectionOf(type: GraphQLNamedType, levels: number): string {
  if (isLeafType(type)) return '';
  if (type.name.startsWith('__')) return ' { name kind }'; // introspection types: what every server knows
  if (!isObjectType(type) || levels === 0) return ' { __typename }';
  const parts: string[] = [];
  for (const field of Object.values(type.getFields())) {
    if (field.args.some((a) => isNonNullType(a.type))) continue;
    const named = getNamedType(field.type);
    if (isLeafType(named)) parts.push(field.name);
    else if (levels > 1) parts.push(`${field.name}${selectionOf(named, levels - 1)}`);
  }
  return ` { ${parts.length ? parts.join(' ') : '__typename'} }`;
}

function around(text: string, index: number): string {
  return text.slice(Math.max(0, index - 60), index + 80);
}

function collectStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) collectStrings(item, out);
  return out;
}
