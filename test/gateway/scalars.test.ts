/**
 * The custom scalars name the spec of their format (common/graphql/scalars.ts), and composition keeps
 * it: introspection through the real gateway answers each one's `specifiedByURL`, which GraphQL Code
 * Generator and other tools read (README "Schema").
 */
import type { Principal } from '../../common/principal';
import { smallSystem } from './smallSystem';

const viewer: Principal = { tenant: 'acme', userId: 'u1', roles: ['viewer'] };
const system = smallSystem();

test('Date and DateTime are specified by RFC 3339 (full-date, date-time), Bytes by JSON numbers (RFC 8259)', async () => {
  const { status, body } = await system().query(viewer, `{
    date: __type(name: "Date") { kind specifiedByURL }
    dateTime: __type(name: "DateTime") { kind specifiedByURL }
    bytes: __type(name: "Bytes") { kind specifiedByURL } }`);
  expect(status).toBe(200);
  expect(body.data).toEqual({
    date: { kind: 'SCALAR', specifiedByURL: 'https://datatracker.ietf.org/doc/html/rfc3339#section-5.6' },
    dateTime: { kind: 'SCALAR', specifiedByURL: 'https://datatracker.ietf.org/doc/html/rfc3339#section-5.6' },
    bytes: { kind: 'SCALAR', specifiedByURL: 'https://datatracker.ietf.org/doc/html/rfc8259#section-6' },
  });
});
