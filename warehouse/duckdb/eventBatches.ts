/**
 * The events of an embedded ingest, one batch at a time: each source stages a batch into the temp
 * table `parsed` — one row per input event: its line number (when the source numbers lines), why it
 * is rejected (NULL when valid), and sso_events' own columns — and `storeBatch` stores its new events.
 * Batches keep memory bounded whatever the input's size. The sources:
 * - an NDJSON file that is clean (`stageFileKeys`) is not staged: one statement reads it whole into
 *   sso_events (`storeCleanFile`: as fast as DuckDB reads JSON at all). Any other is cut into chunks
 *   (`ndjsonChunks`) that DuckDB parses itself with the table's types (`read_json`); a chunk that is
 *   not clean is staged again line by line, so every bad line still gets its number and reason;
 * - text lines (`stageLines`: the Okta poller, JSON-array exports, that fallback): appended as text
 *   and parsed by `from_json`, every line numbered;
 * - LogEvent objects (the seed: `writeEventRecords`, then `stageEventRecords`): a tab-separated record
 *   per event that DuckDB reads in parallel, each sub-object that events share (actor, client,
 *   targets, …) written once, rows assembled in SQL — no JSON per event.
 * Rows are stored in input order: Okta's log and the generator are chronological, so DuckDB's
 * row-group min/max still prune by day.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LogEvent } from '../../okta/logEvent';
import { type FieldSchema, ssoEvents } from '../../pricing/tables';
import { derivedColumns, duckDbType, jsonStructure, quoteIdent } from './duckDbSchema';

/** What `storeBatch` found in one batch. */
export interface BatchReport {
  /** New events stored. */
  readonly accepted: number;
  /** Valid events already stored, or repeated within the input. */
  readonly duplicates: number;
  readonly rejected: { line: number; reason: string }[];
  /** Days that received new events, ascending. */
  readonly days: string[];
  /** Whether any event's actor was new to the directory. */
  readonly usersAdded: boolean;
}

/** Lines, and how many are blank. */
export interface LineCount {
  readonly lines: number;
  readonly blank: number;
}

/** An NDJSON file's chunk: its own file, the input line number of its first line, its lines and how many are blank. */
export interface Chunk extends LineCount {
  readonly file: string;
  readonly firstLine: number;
}

/**
 * Cuts `file` at line ends into chunk files of about `bytes` each in `dir`, one at a time (the
 * previous one is deleted when the next is asked for).
 */
export async function* ndjsonChunks(file: string, dir: string, bytes: number): AsyncGenerator<Chunk> {
  const input = await fs.promises.open(file, 'r');
  const buffer = Buffer.allocUnsafe(bytes);
  let carried = 0; // bytes of an unfinished line kept at the buffer's start
  let firstLine = 1;
  let index = 0;
  try {
    for (;;) {
      const { bytesRead } = await input.read(buffer, carried, bytes - carried, null);
      const filled = carried + bytesRead;
      if (filled === 0) return;
      // The chunk ends after the last newline; at the end of the file, with the file.
      let end = bytesRead === 0 ? filled : buffer.lastIndexOf(10, filled - 1) + 1;
      if (end === 0) {
        if (bytesRead === 0 || filled === bytes) end = filled; // a line longer than a chunk (or the last, unterminated one): as it is
        else {
          carried = filled;
          continue;
        }
      }
      const chunk = path.join(dir, `chunk-${index++}.ndjson`);
      await fs.promises.writeFile(chunk, buffer.subarray(0, end));
      const counter = new LineCounter();
      counter.feed(buffer, 0, end);
      const { lines, blank } = counter.end();
      yield { file: chunk, firstLine, lines, blank };
      await fs.promises.rm(chunk, { force: true });
      firstLine += lines;
      buffer.copy(buffer, 0, end, filled);
      carried = filled - end;
      if (bytesRead === 0 && carried === 0) return;
    }
  } finally {
    await input.close();
  }
}

/**
 * Stages a chunk with DuckDB's own JSON reader. False — and nothing staged — unless every line is a
 * JSON object of the table's types with the fields an event needs: the caller then stages the
 * chunk's lines one by one, which numbers and explains each bad line.
 */
export async function stageFileChunk(connection: DuckDBConnection, chunk: Chunk): Promise<boolean> {
  try {
    await connection.run(`CREATE OR REPLACE TEMP TABLE parsed AS
      SELECT NULL::INTEGER AS line_no, ${rejection('r')} AS reason, r.*
      FROM read_json(${literal(chunk.file)}, format = 'newline_delimited', columns = ${READ_JSON_COLUMNS}) AS r`);
  } catch {
    return false; // malformed JSON, a value of the wrong type, …
  }
  const invalid = await connection.runAndReadAll(`SELECT count(*) FILTER (WHERE reason IS NOT NULL), count(*) FROM parsed`);
  const [bad, rows] = invalid.getRows()[0].map(Number);
  // Blank lines are skipped by the reader; so are they by stageLines, which then numbers the rest.
  if (bad === 0 && rows === chunk.lines - chunk.blank) return true;
  await connection.run('DROP TABLE parsed');
  return false;
}

/**
 * The first half of storing a whole NDJSON file by one statement (`storeCleanFile`): DuckDB reads
 * only the key fields of each line — uuid, published, eventType, actor — into the temp table
 * `file_keys`, and notes in `stored_uuids` those the file's days already hold. True when the file is
 * clean: one JSON object per non-blank line (`lineCount`, counted meanwhile), each with the fields an
 * event needs, no uuid twice. Otherwise false, nothing left staged, and the caller reads the file in
 * chunks (`stageFileChunk`), which numbers and explains each bad line.
 */
export async function stageFileKeys(connection: DuckDBConnection, file: string, lineCount: Promise<LineCount>): Promise<boolean> {
  try {
    await connection.run(`CREATE OR REPLACE TEMP TABLE file_keys AS
      SELECT ${rejection('k')} AS reason, k.uuid, k.published, k.actor
      FROM read_json(${literal(file)}, format = 'newline_delimited', columns = ${KEY_COLUMNS}) AS k`);
  } catch {
    return false; // malformed JSON, a key of the wrong type, …
  }
  const found = await connection.runAndReadAll(`SELECT count(*), count(*) FILTER (WHERE reason IS NOT NULL),
    (SELECT count(*) FROM (SELECT uuid FROM file_keys GROUP BY uuid HAVING count(*) > 1)) FROM file_keys`);
  const [rows, bad, repeated] = found.getRows()[0].map(Number);
  const { lines, blank } = await lineCount;
  if (rows !== lines - blank || bad > 0 || repeated > 0) {
    await connection.run('DROP TABLE file_keys');
    return false;
  }
  await connection.run(`CREATE OR REPLACE TEMP TABLE stored_uuids AS
    SELECT s.uuid FROM sso_events s
    WHERE s.published >= (SELECT min(CAST(published AS DATE)) FROM file_keys)
      AND s.published < (SELECT max(CAST(published AS DATE)) + 1 FROM file_keys)
      AND s.uuid IN (SELECT uuid FROM file_keys)`);
  return true;
}

/**
 * Stores the new events of a clean file (`stageFileKeys`): DuckDB reads the whole file with the
 * table's types straight into sso_events, in input order — one statement, as fast as DuckDB loads
 * JSON at all; `onShareRead` hears the share of the file read, about every second. Then, as
 * `storeBatch`: the days that received events become pending, unknown actors users. Drops the staged
 * keys. Run it in a transaction: it throws when a field beyond the keys cannot be read (a key twice
 * in an object), and the caller rolls back (`discardFileKeys`) and reads the file in chunks.
 */
export async function storeCleanFile(connection: DuckDBConnection, file: string, onShareRead?: (share: number) => void): Promise<BatchReport> {
  const counts = await connection.runAndReadAll(`SELECT (SELECT count(*) FROM file_keys), (SELECT count(*) FROM stored_uuids)`);
  const [rows, duplicates] = counts.getRows()[0].map(Number);
  const fresh = `(SELECT * FROM file_keys WHERE uuid NOT IN (SELECT uuid FROM stored_uuids))`;
  if (rows > duplicates) {
    const insert = () => connection.runAndReadAll(`INSERT INTO sso_events BY NAME
      SELECT ${[...SOURCE_FIELDS.map((f) => `f.${quoteIdent(f.name)}`), ...derivedColumns(ssoEvents, 'f').map((d) => `${d.source} AS ${d.column}`)].join(', ')}
      FROM read_json(${literal(file)}, format = 'newline_delimited', columns = ${READ_JSON_COLUMNS}) AS f
      ${duplicates > 0 ? 'WHERE f.uuid NOT IN (SELECT uuid FROM stored_uuids)' : ''}`);
    const stored = Number((await reportingProgress(connection, insert, onShareRead)).getRows()[0][0]);
    if (stored !== rows - duplicates) throw new Error(`read ${stored} new events from ${file}, its keys said ${rows - duplicates}`);
  }
  const days = await newDays(connection, fresh);
  const usersAdded = await addActors(connection, fresh);
  await connection.run('DROP TABLE file_keys; DROP TABLE stored_uuids');
  return { accepted: rows - duplicates, duplicates, rejected: [], days, usersAdded };
}

/** Drops what `stageFileKeys` staged (after a failed `storeCleanFile`, rolled back). */
export async function discardFileKeys(connection: DuckDBConnection): Promise<void> {
  await connection.run('DROP TABLE IF EXISTS file_keys; DROP TABLE IF EXISTS stored_uuids');
}

/**
 * Stages text lines, numbered from `firstLine` (blank ones are skipped, their numbers too); resolves
 * to how many lines were read.
 */
export async function stageLines(connection: DuckDBConnection, lines: Iterable<string> | AsyncIterable<string>, firstLine: number): Promise<number> {
  await connection.run(`CREATE OR REPLACE TEMP TABLE staged_lines (line_no INTEGER NOT NULL, line VARCHAR NOT NULL)`);
  const appender = await connection.createAppender('staged_lines', 'main', 'temp');
  let read = 0;
  for await (const line of lines) {
    read++;
    if (/^\s*$/.test(line)) continue;
    appender.appendInteger(firstLine + read - 1);
    appender.appendVarchar(line);
    appender.endRow();
  }
  appender.closeSync();
  // CASE evaluates from_json only for lines that are JSON objects, so bad lines cannot abort the batch.
  await connection.run(`CREATE OR REPLACE TEMP TABLE parsed AS
    SELECT line_no,
      CASE WHEN ev IS NULL THEN (CASE WHEN valid THEN 'not a JSON object' ELSE 'not valid JSON' END) ELSE ${rejection('ev')} END AS reason,
      unnest(ev)
    FROM (
      SELECT line_no, json_valid(line) AS valid,
        CASE WHEN json_valid(line) AND json_type(line) = 'OBJECT' THEN from_json(line, ${literal(STRUCTURE)}) END AS ev
      FROM staged_lines
    )`);
  await connection.run('DROP TABLE staged_lines');
  return read;
}

/** The lines of a chunk file (its last one may lack its newline). */
export async function* chunkLines(chunk: Chunk): AsyncGenerator<string> {
  const text = await fs.promises.readFile(chunk.file, 'utf8');
  const lines = text.split('\n');
  yield* lines.slice(0, chunk.lines).map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

/** Consecutive slices of one (async) iterable: `take(n)` yields its next n items at most. */
export function inSlices<T>(items: Iterable<T> | AsyncIterable<T>): { readonly done: boolean; take(count: number): AsyncGenerator<T> } {
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  const state = {
    done: false,
    async *take(count: number): AsyncGenerator<T> {
      for (let i = 0; i < count; i++) {
        const next = await iterator.next();
        if (next.done) {
          state.done = true;
          return;
        }
        yield next.value;
      }
    },
  };
  return state;
}

/** The records files of a batch of LogEvents (`writeEventRecords`), to be staged by `stageEventRecords`. */
export interface EventRecords {
  /** One tab-separated record per event. */
  readonly file: string;
  /** The shared sub-objects, once each: field index, id, JSON. */
  readonly shared: string;
}

/**
 * Writes LogEvent objects, as the generator makes them, without their JSON: one tab-separated record
 * per event in `file` that DuckDB reads in parallel — the scalar fields; for each nested field, the id
 * of a frozen object already seen (the generator freezes what events share: actor, client, targets,
 * …; each such object is written once, as JSON, to a small side file), or else the fields of a flat
 * one (a struct of scalars: transaction, debugContext) or the JSON of any other. It yields to the
 * event loop every RECORDS_PER_TURN events, so a write in progress on a connection keeps going
 * meanwhile: the seed prepares a batch while DuckDB stores the previous one.
 */
export async function writeEventRecords(events: readonly LogEvent[], file: string): Promise<EventRecords> {
  const ids = NESTED_FIELDS.map(() => new Map<object, number>());
  const shared: string[] = [];
  const parts: string[] = [];
  let text = '';
  for (let n = 0; n < events.length; n++) {
    if (n % RECORDS_PER_TURN === RECORDS_PER_TURN - 1) await new Promise(setImmediate);
    const record = events[n] as unknown as Record<string, unknown>;
    let line = String(n);
    for (let i = 0; i < SCALAR_FIELDS.length; i++) line += `\t${tsvField(record[SCALAR_FIELDS[i].name])}`;
    for (let f = 0; f < NESTED_FIELDS_LAYOUT.length; f++) {
      const { field, subfields } = NESTED_FIELDS_LAYOUT[f];
      const value = record[field.name] as Record<string, unknown> | null | undefined;
      if (value === undefined || value === null) {
        line += subfields ? EMPTY_FLAT[f] : '\t\t';
      } else if (Object.isFrozen(value)) {
        let id = ids[f].get(value);
        if (id === undefined) {
          ids[f].set(value, (id = ids[f].size));
          shared.push(`${f}\t${id}\t${tsvField(JSON.stringify(value))}`);
        }
        line += subfields ? `\t${id}${EMPTY_FLAT[f].slice(1)}` : `\t${id}\t`;
      } else if (subfields) {
        line += '\t\ttrue';
        for (let i = 0; i < subfields.length; i++) {
          const sub = value[subfields[i]];
          line += `\t${tsvField(typeof sub === 'object' && sub !== null ? JSON.stringify(sub) : sub)}`;
        }
      } else {
        line += `\t\t${tsvField(JSON.stringify(value))}`;
      }
    }
    text += `${line}\n`;
    if (text.length > TSV_CHUNK_CHARS) {
      parts.push(text);
      text = '';
    }
  }
  parts.push(text);
  await fs.promises.writeFile(file, parts);
  await fs.promises.writeFile(`${file}.shared`, shared.length > 0 ? `${shared.join('\n')}\n` : '');
  return { file, shared: `${file}.shared` };
}

/** Stages the events of `records` (writeEventRecords), their rows assembled in SQL, in input order; removes the files. */
export async function stageEventRecords(connection: DuckDBConnection, { file, shared }: EventRecords): Promise<void> {
  const columns = [`'n': 'INTEGER'`, ...SCALAR_FIELDS.map((f) => `${literal(f.name)}: 'VARCHAR'`), ...NESTED_FIELDS_LAYOUT.flatMap(({ field, subfields }) => [
    `${literal(`${field.name}_id`)}: 'INTEGER'`,
    ...(subfields ? [`${literal(`${field.name}_inline`)}: 'BOOLEAN'`, ...subfields.map((sub) => `${literal(`${field.name}.${sub}`)}: 'VARCHAR'`)] : [`${literal(`${field.name}_json`)}: 'VARCHAR'`]),
  ])];
  const csv = (csvFile: string, csvColumns: string[]) =>
    `read_csv(${literal(csvFile)}, delim = '\t', quote = '\x01', escape = '\x01', header = false, auto_detect = false, columns = {${csvColumns.join(', ')}})`;
  try {
    await connection.run(`CREATE OR REPLACE TEMP TABLE shared_objects AS SELECT * FROM ${csv(shared, [`'field': 'INTEGER'`, `'id': 'INTEGER'`, `'json': 'VARCHAR'`])}`);
    const column = (name: string) => `e.${quoteIdent(name)}`;
    const assembled = SOURCE_FIELDS.map((field) => {
      const f = NESTED_FIELDS.indexOf(field);
      const name = quoteIdent(field.name);
      const type = duckDbType(field);
      if (f < 0) return `TRY_CAST(${column(field.name)} AS ${type}) AS ${name}`;
      const { subfields } = NESTED_FIELDS_LAYOUT[f];
      const own = subfields
        ? `CAST(CASE WHEN ${column(`${field.name}_inline`)} THEN struct_pack(${subfields.map((sub) => `${quoteIdent(sub)} := ${column(`${field.name}.${sub}`)}`).join(', ')}) END AS ${type})`
        : `from_json(${column(`${field.name}_json`)}, ${literal(fieldStructure(field))})`;
      return `CAST(coalesce(o${f}.v, ${own}) AS ${type}) AS ${name}`;
    });
    await connection.run(`CREATE OR REPLACE TEMP TABLE parsed AS
      SELECT NULL::INTEGER AS line_no, ${rejection('a')} AS reason, a.*
      FROM (
        SELECT ${assembled.join(', ')}
        FROM ${csv(file, columns)} AS e
        ${NESTED_FIELDS.map((field, f) => `LEFT JOIN (SELECT id, CAST(from_json(json, ${literal(fieldStructure(field))}) AS ${duckDbType(field)}) AS v FROM shared_objects WHERE field = ${f}) AS o${f}
          ON o${f}.id = ${column(`${field.name}_id`)}`).join('\n        ')}
        ORDER BY e.n
      ) AS a`);
  } finally {
    await connection.run('DROP TABLE IF EXISTS shared_objects');
    for (const leftover of [file, shared]) await fs.promises.rm(leftover, { force: true });
  }
}

/**
 * Stores the new events of `parsed` — valid, the first of their uuid in the input, and not stored
 * yet in their days' partitions (earlier batches of the same ingest included) — in input order;
 * adds their days to `_pending_days` (the days whose derived data is yet to be refreshed) and their
 * unknown actors to `users`. Drops `parsed`. Run it in a transaction.
 */
export async function storeBatch(connection: DuckDBConnection): Promise<BatchReport> {
  const rejectedRows = await connection.runAndReadAll(`SELECT line_no, reason FROM parsed WHERE reason IS NOT NULL ORDER BY line_no`);
  const rejected = rejectedRows.getRows().map(([line, reason]) => ({ line: Number(line), reason: String(reason) }));
  // Decided on narrow (rowid, uuid) rows: window and join operators copy whole rows, and events are wide.
  await connection.run(`CREATE OR REPLACE TEMP TABLE fresh_rows AS
    SELECT rid FROM (
      SELECT rowid AS rid, uuid, row_number() OVER (PARTITION BY uuid ORDER BY rowid) AS occurrence
      FROM parsed WHERE reason IS NULL
    ) candidates
    WHERE occurrence = 1 AND uuid NOT IN (
      SELECT s.uuid FROM sso_events s
      WHERE s.published >= (SELECT min(CAST(published AS DATE)) FROM parsed WHERE reason IS NULL)
        AND s.published < (SELECT max(CAST(published AS DATE)) + 1 FROM parsed WHERE reason IS NULL))`);
  const counts = await connection.runAndReadAll(`SELECT (SELECT count(*) FROM fresh_rows), (SELECT count(*) FROM parsed WHERE reason IS NULL)`);
  const [accepted, valid] = counts.getRows()[0].map(Number);
  const fresh = `(SELECT p.* FROM parsed p WHERE p.rowid IN (SELECT rid FROM fresh_rows))`;
  await connection.run(`INSERT INTO sso_events BY NAME
    SELECT ${[...SOURCE_FIELDS.map((f) => `f.${quoteIdent(f.name)}`), ...derivedColumns(ssoEvents, 'f').map((d) => `${d.source} AS ${d.column}`)].join(', ')}
    FROM ${fresh} AS f`);
  const days = await newDays(connection, fresh);
  const usersAdded = await addActors(connection, fresh);
  await connection.run('DROP TABLE fresh_rows; DROP TABLE parsed');
  return { accepted, duplicates: valid - accepted, rejected, days, usersAdded };
}

/** Days whose events are stored but whose derived data (rollups, statistics) is not refreshed yet: kept across a crash. */
export const PENDING_DAYS_TABLE = '_pending_days';

// Private:

/**
 * Runs `statement` on `connection`, its progress (DuckDB's: for a file reader, the share of the file
 * read) polled every PROGRESS_POLL_MS for `onShare`.
 */
async function reportingProgress<T>(connection: DuckDBConnection, statement: () => Promise<T>, onShare?: (share: number) => void): Promise<T> {
  if (!onShare) return statement();
  await connection.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
  const poll = setInterval(() => {
    const { percentage } = connection.progress;
    if (percentage > 0) onShare(Math.min(percentage, 100) / 100);
  }, PROGRESS_POLL_MS);
  try {
    return await statement();
  } finally {
    clearInterval(poll);
  }
}

const PROGRESS_POLL_MS = 1000;

/** The days of the new events `fresh` (a subquery with `published`), ascending, added to `_pending_days`. */
async function newDays(connection: DuckDBConnection, fresh: string): Promise<string[]> {
  const dayRows = await connection.runAndReadAll(`SELECT DISTINCT strftime(CAST(f.published AS DATE), '%Y-%m-%d') AS day FROM ${fresh} AS f ORDER BY day`);
  await connection.run(`INSERT OR IGNORE INTO ${PENDING_DAYS_TABLE} SELECT DISTINCT CAST(f.published AS DATE) FROM ${fresh} AS f`);
  return dayRows.getRows().map(([day]) => String(day));
}

/** The actors of the new events `fresh` not in the directory yet become users with what the events say about them; whether any did. */
async function addActors(connection: DuckDBConnection, fresh: string): Promise<boolean> {
  const added = await connection.runAndReadAll(`INSERT INTO users (id, email, display_name)
    SELECT a.actor.id, any_value(a.actor.alternateId), any_value(a.actor.displayName)
    FROM ${fresh} AS a WHERE a.actor.id NOT IN (SELECT id FROM users) GROUP BY a.actor.id`);
  return Number(added.getRows()[0]?.[0] ?? 0) > 0;
}

/** sso_events' own columns (not the derived ones), in declaration order. */
const SOURCE_FIELDS: readonly FieldSchema[] = ssoEvents.fields.filter((f) => !('derivedFrom' in f && f.derivedFrom));
const SCALAR_FIELDS = SOURCE_FIELDS.filter((f) => f.type !== 'STRUCT' && f.mode !== 'REPEATED');
const NESTED_FIELDS = SOURCE_FIELDS.filter((f) => f.type === 'STRUCT' || f.mode === 'REPEATED');

/** Okta's free-form debugData map is kept as JSON text. */
const JSON_TEXT_FIELDS = ['debugContext.debugData'];
const STRUCTURE = jsonStructure(ssoEvents, JSON_TEXT_FIELDS);

/** read_json's `columns`: each source column's DuckDB type (JSON text fields as JSON), or those of `names` only. */
function readJsonColumns(names?: readonly string[]): string {
  const typeOf = (value: unknown): string => (Array.isArray(value) ? `${typeOf(value[0])}[]`
    : typeof value === 'object' ? `STRUCT(${Object.entries(value as object).map(([name, v]) => `${quoteIdent(name)} ${typeOf(v)}`).join(', ')})`
      : String(value));
  const columns = Object.entries(JSON.parse(STRUCTURE) as object).filter(([name]) => !names || names.includes(name));
  return `{${columns.map(([name, value]) => `${literal(name)}: ${literal(typeOf(value))}`).join(', ')}}`;
}

const READ_JSON_COLUMNS = readJsonColumns();
/** The fields `rejection` looks at, and the actor (for the directory). */
const KEY_COLUMNS = readJsonColumns(['uuid', 'published', 'eventType', 'actor']);

/** Why the event in row `row` cannot be stored, or NULL. */
function rejection(row: string): string {
  return `CASE WHEN ${row}.uuid IS NULL OR ${row}.uuid = '' THEN 'missing "uuid"'
    WHEN ${row}.published IS NULL THEN '"published" is missing or not an ISO-8601 timestamp'
    WHEN ${row}.eventType IS NULL OR ${row}.eventType = '' THEN 'missing "eventType"'
    WHEN ${row}.actor.id IS NULL OR ${row}.actor.id = '' THEN 'missing "actor.id"' END`;
}

/** from_json's structure for one top-level field. */
function fieldStructure(field: FieldSchema): string {
  return JSON.stringify((JSON.parse(STRUCTURE) as Record<string, unknown>)[field.name]);
}

/** The records file is built from strings of about this size (one huge string costs more to build). */
const TSV_CHUNK_CHARS = 1 << 22;
/** writeEventRecords's events between two turns of the event loop (~10 ms). */
const RECORDS_PER_TURN = 1000;

/** Each nested field, and for a flat one (a struct of scalars) its fields' names. */
const NESTED_FIELDS_LAYOUT = NESTED_FIELDS.map((field) => ({
  field,
  subfields: field.type === 'STRUCT' && field.mode !== 'REPEATED' && field.fields.every((sub) => sub.type !== 'STRUCT' && sub.mode !== 'REPEATED')
    ? field.fields.map((sub) => sub.name) : undefined,
}));

/**
 * A field of the records file: empty for NULL; as it is, unless it holds a tab, a line end or the
 * quote character \x01 (JSON text never does: it escapes control characters), or is empty text.
 */
function tsvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return text === '' || NEEDS_QUOTES.test(text) ? `\x01${text.replace(/\x01/g, '\x01\x01')}\x01` : text;
}

const NEEDS_QUOTES = /[\t\n\r\x01]/;

/** A flat field's columns when it is NULL: no id, not inline, its fields empty. */
const EMPTY_FLAT = NESTED_FIELDS_LAYOUT.map(({ subfields }) => (subfields ? `\t\t${'\t'.repeat(subfields.length)}` : ''));

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A file's lines (a last one without its newline included), and those that are blank, read through a small buffer. */
export async function countFileLines(file: string): Promise<LineCount> {
  const input = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const counter = new LineCounter();
    for (let read; (read = (await input.read(buffer, 0, buffer.length, null)).bytesRead) > 0;) counter.feed(buffer, 0, read);
    return counter.end();
  } finally {
    await input.close();
  }
}

/** NDJSON is read through a buffer of this size. */
const READ_BUFFER_BYTES = 8 * 2 ** 20;

/**
 * Counts lines fed in pieces (a line may span pieces), and those that are blank. Only a short line
 * is looked at for blankness: a longer all-whitespace one counts as not blank, so the reader skipping
 * it shows as a row count short of the lines, and the chunk is read line by line.
 */
class LineCounter {
  private lines = 0;
  private blank = 0;
  /** Bytes of the line being read, so far; -1 between lines. */
  private open = -1;
  private openBlank = true;

  feed(buffer: Buffer, from: number, to: number): void {
    for (let start = from; start < to;) {
      const newline = buffer.indexOf(10, start);
      const stop = newline === -1 || newline >= to ? to : newline;
      const length = Math.max(this.open, 0) + stop - start;
      this.openBlank &&= length < BLANK_LINE_MAX_BYTES && isBlank(buffer, start, stop);
      this.open = length;
      if (stop === to) return;
      this.endLine();
      start = stop + 1;
    }
  }

  end(): LineCount {
    if (this.open >= 0) this.endLine();
    return { lines: this.lines, blank: this.blank };
  }

  private endLine(): void {
    this.lines++;
    if (this.openBlank) this.blank++;
    this.open = -1;
    this.openBlank = true;
  }
}

const BLANK_LINE_MAX_BYTES = 64;

function isBlank(buffer: Buffer, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) if (buffer[i] !== 32 && buffer[i] !== 9 && buffer[i] !== 13) return false;
  return true;
}
