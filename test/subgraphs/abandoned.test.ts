/**
 * A subgraph starts no warehouse job for a request the gateway gave up on — past the deadline the
 * gateway signed (its fetch start + SUBGRAPH_TIMEOUT_MS), or once the connection it came on has closed
 * — since nobody would be charged what such a job bills. Real subgraphs over HTTP, on DuckDB.
 */
import http from 'node:http';
import { ErrorCode } from '../../common/errors';
import { startSubgraph } from '../../subgraphs';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import type { Warehouse } from '../../warehouse/warehouse';
import { createFixtureDataDir } from './fixture';
import { countingWarehouse, executive, useHarness } from './harness';

const harness = useHarness();
const ME = '{ me { id displayName } }';

describe('the signed deadline', () => {
  test('a request signed with a deadline still ahead runs its job', async () => {
    const headers = harness().sign(executive, ME, undefined, { timeoutMs: 5000 });
    const response = await harness().request('users', ME, { headers });
    expect(response).toMatchObject({ status: 200, data: { me: { id: '00uceo' } } });
    expect(harness().queries).toEqual(['usersById']);
  });

  test('past it, a validly signed request runs no job: its field fails SUBGRAPH_UNAVAILABLE, retryable, 0 billed', async () => {
    // Signed 3 s ago with a 2 s deadline: still within the signature's 60 s, a second past the deadline.
    const headers = harness().sign(executive, ME, undefined, { nowMs: Date.now() - 3000, timeoutMs: 2000 });
    const response = await harness().request('users', ME, { headers });
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ me: null });
    expect(response.errors?.map((e) => e.extensions)).toEqual([{ code: ErrorCode.SUBGRAPH_UNAVAILABLE, retryable: true }]);
    expect(response.extensions?.warehouse).toMatchObject({ queries: 0, billedBytes: 0 });
    expect(harness().queries).toEqual([]);
  });
});

describe('a client that hangs up', () => {
  let remove: () => void;
  let served: { url: string; close(): Promise<void> };
  let warehouse: Warehouse;
  const queries: string[] = [];
  /** Each request's first warehouse call (the tenant check) announces itself (`reached`), then waits for `release()`. */
  let hold: () => Promise<void>;
  let reached: Promise<void>;
  let release: () => void;

  beforeAll(async () => {
    const fixture = await createFixtureDataDir();
    remove = fixture.remove;
    const counting = countingWarehouse(createDuckDbWarehouse({ dataDir: fixture.dataDir }), queries);
    warehouse = { ...counting, hasTenant: async (tenant) => { await hold(); return counting.hasTenant(tenant); } };
    served = await startSubgraph('users', { warehouse, config: harness().config, port: 0 });
  });
  afterAll(async () => {
    await served.close();
    await warehouse.close();
    remove();
  });
  beforeEach(() => {
    queries.splice(0);
    let arrive!: () => void;
    reached = new Promise<void>((resolve) => { arrive = resolve; });
    const released = new Promise<void>((resolve) => { release = resolve; });
    hold = async () => {
      arrive();
      await released;
    };
  });

  /** Sends ME, signed, on a connection of its own. */
  function send(): { request: http.ClientRequest; answered: Promise<string> } {
    const body = JSON.stringify({ query: ME });
    const request = http.request(served.url, {
      method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...harness().sign(executive, ME) },
    });
    const answered = new Promise<string>((resolve, reject) => {
      request.on('response', (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk));
        response.on('end', () => resolve(text));
      });
      request.on('error', reject);
    });
    request.end(body);
    return { request, answered };
  }

  const pause = () => new Promise((resolve) => setTimeout(resolve, 300));

  test('a client that waits gets its answer, from one job', async () => {
    const { answered } = send();
    await reached;
    release();
    expect(JSON.parse(await answered)).toMatchObject({ data: { me: { id: '00uceo' } } });
    expect(queries).toEqual(['usersById']);
  });

  test('a client gone before its job starts: the job never starts', async () => {
    const { request, answered } = send();
    answered.catch(() => undefined); // hung up: no answer comes
    await reached;
    request.destroy();
    await pause(); // the subgraph sees the connection close
    release();
    await pause(); // the resolver would have started its job by now
    expect(queries).toEqual([]);
  });
});
