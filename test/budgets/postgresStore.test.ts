/**
 * The PostgreSQL budget store against the local server (DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test): the shared contract, then what only Postgres has — its
 * tables, a migration two replicas run at once, and connection errors. Each suite works in a schema
 * of its own, dropped afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createPostgresStore } from '../../budgets/postgresStore';
import { storeContract } from './storeContract';

const url = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const newSchema = () => `bytegate_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

async function dropSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

storeContract('PostgreSQL', async () => {
  const schema = newSchema();
  return { open: () => createPostgresStore({ url, schema }), cleanup: () => dropSchema(schema) };
});

describe('PostgreSQL budget store', () => {
  const schema = newSchema();
  afterAll(() => dropSchema(schema));

  test('replicas starting at once migrate once, into the three tables', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => createPostgresStore({ url, schema })));
    await Promise.all(stores.map((store) => store.close()));
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(
        'SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position',
        [schema],
      );
      const columns = (table: string) => rows.filter((row) => row.table_name === table).map((row) => `${row.column_name} ${row.data_type}`);
      expect(columns('tenant_budgets')).toEqual(['tenant text', 'daily_limit_bytes bigint', 'max_query_bytes bigint', 'timezone text', 'updated_at timestamp with time zone']);
      expect(columns('user_budgets')).toEqual(['tenant text', 'user_id text', 'daily_limit_bytes bigint', 'max_query_bytes bigint', 'updated_at timestamp with time zone']);
      expect(columns('budget_audit')).toEqual([
        'id bigint', 'at timestamp with time zone', 'tenant text', 'actor text', 'user_id text', 'action text', 'old jsonb', 'new jsonb', 'reason text',
      ]);
    } finally {
      await client.end();
    }
  });

  test('a server that cannot be reached: an error naming the URL, without its password', async () => {
    await expect(createPostgresStore({ url: 'postgres://ops:s3cret-pw@127.0.0.1:9/budgets', schema }))
      .rejects.toThrow(/^Cannot open the budget store in PostgreSQL at postgres:\/\/ops:\*\*\*@127\.0\.0\.1:9\/budgets: /);
    await expect(createPostgresStore({ url: 'postgres://ops:s3cret-pw@127.0.0.1:9/budgets', schema })).rejects.not.toThrow(/s3cret/);
  });

  test('a schema name that is not a plain identifier is refused before connecting', async () => {
    await expect(createPostgresStore({ url, schema: 'x"; DROP SCHEMA public; --' })).rejects.toThrow(/must be lowercase letters, digits and underscores/);
  });
});
