/**
 * Paths at the HTTP edge (common/http/graphqlHttpServer.ts), on the real gateway and subgraphs:
 * GraphQL answers at `/graphql` only; `/` is a coded 404 NOT_FOUND like any other unknown path
 * (README "Error codes"), whatever the method or Accept header.
 */
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { ErrorCode } from '../../common/errors';
import type { Principal } from '../../common/principal';
import { smallSystem } from './smallSystem';

const viewer: Principal = { tenant: 'acme', userId: 'u1', roles: ['viewer'] };
const system = smallSystem();

/** The status and error code of a request to `path` on the server at `url`. */
async function answer(url: string, path: string, init: RequestInit = {}): Promise<{ status: number; code: unknown }> {
  const response = await fetch(new URL(path, url), init);
  const body = (await response.json()) as { errors?: { extensions: { code: string } }[] };
  return { status: response.status, code: body.errors?.[0].extensions.code };
}

const POST = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) };

test.each(['gateway', ...SUBGRAPH_NAMES])('%s: POST /, GET / (JSON or a browser\'s Accept) and GET /?query= are 404 NOT_FOUND', async (server) => {
  const url = server === 'gateway' ? system().gatewayUrl : system().subgraphUrls[server as SubgraphName];
  const notFound = { status: 404, code: ErrorCode.NOT_FOUND };
  expect(await answer(url, '/', POST)).toEqual(notFound);
  expect(await answer(url, '/')).toEqual(notFound);
  expect(await answer(url, '/', { headers: { accept: 'text/html' } })).toEqual(notFound);
  expect(await answer(url, '/?query=%7B__typename%7D')).toEqual(notFound);
});

test('/graphql still answers: the gateway runs the operation, a subgraph refuses an unsigned call with its own code', async () => {
  const { status, body } = await system().query(viewer, '{ me { id } }');
  expect({ status, data: body.data }).toEqual({ status: 200, data: { me: { id: 'u1' } } });
  expect(await answer(system().subgraphUrls.users, '/graphql', POST)).toEqual({ status: 401, code: ErrorCode.INVALID_SIGNATURE });
});
