/**
 * Apollo Client 4, as frontend teams use it, against the real gateway: HttpLink, BatchHttpLink (several
 * queries in one POST, each answered and refused on its own) and the persisted-queries link in front
 * of it (a hash first, the text only when the gateway does not know it).
 */
import crypto from 'node:crypto';
import { ApolloClient, type ApolloLink, CombinedGraphQLErrors, type DocumentNode, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { BatchHttpLink } from '@apollo/client/link/batch-http';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { MiB } from '../../common/units';
import { clientSystem } from './clientSystem';

const system = clientSystem();
const JOB_BYTES = 10 * MiB;

/** Every request body the client sent, parsed. */
function recordingFetch(sent: unknown[]): typeof fetch {
  return (input, init) => {
    sent.push(JSON.parse(String(init?.body)));
    return fetch(input, init);
  };
}

function client(link: ApolloLink) {
  const apollo = new ApolloClient({ link, cache: new InMemoryCache() });
  // Errors beside data, as a dashboard shows them: each query resolves with `data` and/or `error`.
  return { query: (options: { query: DocumentNode }) => apollo.query({ ...options, fetchPolicy: 'no-cache', errorPolicy: 'all' }) };
}

const ME = gql`query Me { me { id } }`;
const jobOn = (n: number) => gql`query Job${n} { tenant { topTimeWasters(from: "${system().day(n)}", to: "${system().day(n)}", first: 3) { user { id } totalWasteHours } } }`;

test('HttpLink: a query answers with its data', async () => {
  const { user, headers } = await system().caller();
  const result = await client(new HttpLink({ uri: system().url, headers })).query({ query: ME });
  expect(result.error).toBeUndefined();
  expect(result.data).toEqual({ me: { __typename: 'User', id: user } });
});

test('BatchHttpLink: three queries in one POST, each answered in its own result', async () => {
  const { headers } = await system().caller('executive');
  const sent: unknown[] = [];
  const apollo = client(new BatchHttpLink({ uri: system().url, headers, batchInterval: 20, fetch: recordingFetch(sent) }));
  const [a, b, me] = await Promise.all([apollo.query({ query: jobOn(1) }), apollo.query({ query: jobOn(2) }), apollo.query({ query: ME })]);
  expect(sent).toHaveLength(1);
  expect(sent[0]).toHaveLength(3);
  for (const result of [a, b]) {
    expect(result.error).toBeUndefined();
    expect((result.data as any).tenant.topTimeWasters.length).toBeGreaterThan(0);
  }
  expect((me.data as any).me.id).toBeDefined();
});

test('BatchHttpLink: an operation over the budget fails alone with BUDGET_EXCEEDED; the others succeed', async () => {
  const { user, headers } = await system().caller('executive');
  await system().setDailyLimit(user, JOB_BYTES);
  const apollo = client(new BatchHttpLink({ uri: system().url, headers, batchInterval: 20 }));
  const results = await Promise.all([apollo.query({ query: jobOn(3) }), apollo.query({ query: jobOn(4) }), apollo.query({ query: ME })]);
  const refused = results.filter((result) => result.error);
  expect(refused).toHaveLength(1);
  const error = refused[0].error;
  expect(CombinedGraphQLErrors.is(error)).toBe(true);
  expect((error as CombinedGraphQLErrors).errors[0].extensions?.code).toBe('BUDGET_EXCEEDED');
  expect(results.filter((result) => (result.data as any)?.tenant)).toHaveLength(1);
  expect((results[2].data as any).me.id).toBe(user);
});

test('persisted queries over BatchHttpLink: the text is sent once, then the hash alone is answered by the gateway', async () => {
  const { headers } = await system().caller('executive');
  // A fresh gateway (its persisted queries in memory) has never seen it.
  const persisted = gql`query Persisted { me { id } }`;
  const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');
  const run = async () => {
    const sent: any[] = [];
    const link = new PersistedQueryLink({ sha256 }).concat(new BatchHttpLink({ uri: system().url, headers, batchInterval: 5, fetch: recordingFetch(sent) }));
    const result = await client(link).query({ query: persisted });
    return { result, sent: sent.flat() };
  };
  const first = await run();
  expect(first.result.error).toBeUndefined();
  // Unknown hash (PERSISTED_QUERY_NOT_FOUND in its slot), then the hash with the text.
  expect(first.sent.map((operation) => typeof operation.query)).toEqual(['undefined', 'string']);
  const second = await run();
  expect(second.result.error).toBeUndefined();
  expect(second.sent).toHaveLength(1);
  expect(second.sent[0].query).toBeUndefined();
  expect((second.result.data as any).me.id).toBe((first.result.data as any).me.id);
});
