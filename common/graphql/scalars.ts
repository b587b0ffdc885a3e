/**
 * The contract's scalars (ARCHITECTURE.md "Schema (minimum)"). Invalid input is BAD_USER_INPUT with
 * a message a person understands, whether it comes as a variable or as a literal.
 * See https://spec.graphql.org/October2021/#sec-Scalars.Input-Coercion
 *
 * Each names the spec of its format in `specifiedByURL`, so tools map it to a type (GraphQL Code
 * Generator's `scalars`): https://spec.graphql.org/October2021/#sec--specifiedBy. Subgraphs declare
 * them with `printType(DateScalar)` & co., and composition keeps `@specifiedBy` in the API schema.
 */
import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { badUserInput } from '../errors';
import { parseDate } from '../dates';

/** RFC 3339's grammar: `full-date` (Date) and `date-time` (DateTime). */
const RFC_3339_DATES = 'https://datatracker.ietf.org/doc/html/rfc3339#section-5.6';

/** A calendar date, `YYYY-MM-DD` (UTC). */
export const DateScalar = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'A calendar date, YYYY-MM-DD (UTC).',
  specifiedByURL: RFC_3339_DATES,
  serialize: (value) => date(value, 'output'),
  parseValue: (value) => date(value, 'input'),
  parseLiteral: (node) => date(literal(node), 'input'),
});

/** An instant, ISO-8601 with a timezone; output normalized to UTC (`…Z`). */
export const DateTimeScalar = new GraphQLScalarType<string, string>({
  name: 'DateTime',
  description: 'An instant, ISO-8601 with a timezone, e.g. 2025-03-04T08:15:02.123Z.',
  specifiedByURL: RFC_3339_DATES,
  serialize: (value) => dateTime(value instanceof Date ? value.toISOString() : value, 'output'),
  parseValue: (value) => dateTime(value, 'input'),
  parseLiteral: (node) => dateTime(literal(node), 'input'),
});

/**
 * A byte count: a non-negative integer JSON number (safe up to 2^53, 8 PiB). Its spec is JSON's: an
 * integer in that range is exact in every JSON parser (RFC 8259 §6), so a client reads it as a number.
 */
export const BytesScalar = new GraphQLScalarType<number, number>({
  name: 'Bytes',
  description: 'A byte count: a non-negative integer JSON number.',
  specifiedByURL: 'https://datatracker.ietf.org/doc/html/rfc8259#section-6',
  serialize: (value) => bytes(typeof value === 'bigint' ? Number(value) : value, 'output'),
  parseValue: (value) => bytes(value, 'input'),
  parseLiteral: (node) => bytes(node.kind === Kind.INT ? Number(node.value) : undefined, 'input'),
});

/** Every scalar a subgraph may declare, by name. */
export const SCALARS: Readonly<Record<string, GraphQLScalarType>> = {
  Date: DateScalar,
  DateTime: DateTimeScalar,
  Bytes: BytesScalar,
};

// Private:

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function literal(node: ValueNode): unknown {
  return node.kind === Kind.STRING ? node.value : undefined;
}

type Direction = 'input' | 'output';

function date(value: unknown, direction: Direction): string {
  if (typeof value === 'string' && parseDate(value)) return value;
  throw invalid(direction, `Date must be a calendar date as YYYY-MM-DD, got ${describe(value)}.`);
}

function dateTime(value: unknown, direction: Direction): string {
  const ms = typeof value === 'string' && ISO_DATE_TIME.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw invalid(direction, `DateTime must be ISO-8601 with a timezone, got ${describe(value)}.`);
  return new Date(ms).toISOString();
}

function bytes(value: unknown, direction: Direction): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw invalid(direction, `Bytes must be a non-negative integer, got ${describe(value)}.`);
}

/** Bad input is the caller's mistake (BAD_USER_INPUT); a bad output value is ours (a masked internal error). */
function invalid(direction: Direction, message: string): Error {
  return direction === 'input' ? badUserInput(message) : new TypeError(message);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
