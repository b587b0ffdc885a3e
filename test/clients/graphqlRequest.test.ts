/**
 * graphql-request 7, the minimal client scripts and BI glue use, against the real gateway: a request,
 * `extensions.cost` through rawRequest, a refusal as a ClientError with its status and code, and
 * batchRequests (one POST) with each operation answered on its own.
 */
import { ClientError, GraphQLClient, gql } from 'graphql-request';
import { MiB } from '../../common/units';
import { clientSystem } from './clientSystem';

const system = clientSystem();
const JOB_BYTES = 10 * MiB;
const JOB = gql`query Job($from: Date!, $to: Date!) { tenant { topTimeWasters(from: $from, to: $to, first: 3) { totalWasteHours } } }`;
const oneDay = (n: number) => ({ from: system().day(n), to: system().day(n) });

test('request answers the data; rawRequest also shows what it cost', async () => {
  const { user, headers } = await system().caller('executive');
  const graphql = new GraphQLClient(system().url, { headers });
  expect(await graphql.request<{ me: { id: string } }>('{ me { id } }')).toEqual({ me: { id: user } });
  const raw = await graphql.rawRequest<{ tenant: { topTimeWasters: unknown[] } }>(JOB, oneDay(1));
  expect(raw.data.tenant.topTimeWasters.length).toBeGreaterThan(0);
  expect(raw.extensions).toMatchObject({ cost: { estimatedBilledBytes: JOB_BYTES, billedBytes: JOB_BYTES } });
});

test('a refused operation is a ClientError carrying the HTTP status and the code', async () => {
  const { user, headers } = await system().caller('executive');
  await system().setDailyLimit(user, 0);
  const error = await new GraphQLClient(system().url, { headers }).request(JOB, oneDay(2)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ClientError);
  const { response } = error as ClientError;
  expect(response.status).toBe(429);
  expect(response.errors?.[0].extensions?.code).toBe('BUDGET_EXCEEDED');
});

test('batchRequests: one POST, each operation answered in order; a refused one carries its own error', async () => {
  const { user, headers } = await system().caller('executive');
  await system().setDailyLimit(user, JOB_BYTES);
  let posts = 0;
  const graphql = new GraphQLClient(system().url, {
    headers, errorPolicy: 'all',
    fetch: (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      posts++;
      return fetch(input, init);
    },
  });
  const results = await graphql.batchRequests<[{ data: { me: { id: string } } }, { data: any }, { data: any }]>([
    { document: '{ me { id } }' },
    { document: JOB, variables: oneDay(3) },
    { document: JOB, variables: oneDay(4) },
  ]);
  expect(posts).toBe(1);
  expect(results[0].data.me.id).toBe(user);
  const [first, second] = [results[1], results[2]] as { data?: any; errors?: { extensions?: { code?: string } }[] }[];
  const codes = [first, second].map((result) => result.errors?.[0]?.extensions?.code);
  expect(codes.sort()).toEqual(['BUDGET_EXCEEDED', undefined]);
});
