import { ErrorCode } from '../../common/errors';
import type { Principal } from '../../common/principal';
import { IDENTITY_HEADER, SIGNATURE_HEADER, signIdentity, verifyIdentity } from '../../common/signedIdentity';

const secret = 's'.repeat(32);
const principal: Principal = { tenant: 'acme', userId: '00uabc', roles: ['manager'] };
const request = { query: '{ me { id } }', variables: { a: 1 } };
const now = 1_700_000_000_000;

function headersFor(p: Principal = principal, r = request, key = secret, at = now) {
  const signed = signIdentity(p, r, key, at);
  return { identity: signed[IDENTITY_HEADER], signature: signed[SIGNATURE_HEADER] };
}

test('a signed identity verifies to the same principal', () => {
  expect(verifyIdentity(headersFor(), request, secret, now + 1000)).toEqual({ principal });
});

test('caps travel signed: changing them breaks the signature', () => {
  const caps = { maxJobBilledBytes: 20 * 2 ** 20, maxTotalBilledBytes: 50 * 2 ** 20 };
  const signed = signIdentity(principal, request, secret, now, { caps });
  expect(verifyIdentity({ identity: signed[IDENTITY_HEADER], signature: signed[SIGNATURE_HEADER] }, request, secret, now)).toEqual({ principal, caps });
  const payload = JSON.parse(Buffer.from(signed[IDENTITY_HEADER], 'base64url').toString('utf8'));
  const raised = Buffer.from(JSON.stringify({ ...payload, caps: { ...caps, maxTotalBilledBytes: 2 ** 40 } })).toString('base64url');
  expect(() => verifyIdentity({ identity: raised, signature: signed[SIGNATURE_HEADER] }, request, secret, now)).toThrow(/bad gateway signature/);
});

test('a deadline travels signed: the gateway\'s fetch start + its timeout; changing it breaks the signature', () => {
  const signed = signIdentity(principal, request, secret, now, { timeoutMs: 2000 });
  expect(verifyIdentity({ identity: signed[IDENTITY_HEADER], signature: signed[SIGNATURE_HEADER] }, request, secret, now)).toEqual({ principal, deadline: now + 2000 });
  const payload = JSON.parse(Buffer.from(signed[IDENTITY_HEADER], 'base64url').toString('utf8'));
  const extended = Buffer.from(JSON.stringify({ ...payload, deadline: now + 60_000 })).toString('base64url');
  expect(() => verifyIdentity({ identity: extended, signature: signed[SIGNATURE_HEADER] }, request, secret, now)).toThrow(/bad gateway signature/);
  const dropped = Buffer.from(JSON.stringify({ ...payload, deadline: undefined })).toString('base64url');
  expect(() => verifyIdentity({ identity: dropped, signature: signed[SIGNATURE_HEADER] }, request, secret, now)).toThrow(/bad gateway signature/);
});

test.each([
  ['no headers', {}, request, now],
  ['another secret', headersFor(principal, request, 'x'.repeat(32)), request, now],
  ['replayed with another query', headersFor(), { ...request, query: '{ tenant { id } }' }, now],
  ['replayed with other variables', headersFor(), { ...request, variables: { a: 2 } }, now],
  ['expired', headersFor(), request, now + 61_000],
  ['tenant swapped in the payload', (() => {
    const h = headersFor();
    const payload = JSON.parse(Buffer.from(h.identity, 'base64url').toString());
    return { ...h, identity: Buffer.from(JSON.stringify({ ...payload, tenant: 'globex' })).toString('base64url') };
  })(), request, now],
])('refuses %s with INVALID_SIGNATURE', (_name, headers, req, at) => {
  expect(() => verifyIdentity(headers, req, secret, at)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: ErrorCode.INVALID_SIGNATURE, http: { status: 401 } }) }));
});
