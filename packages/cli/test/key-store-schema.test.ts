import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPostgresDriver, SqlKeyStore } from '@keystrata/core';
import { createDatabase, startPostgres, type PostgresServer } from '@keystrata/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keystrata } from './run-cli.js';

const tablesIn = async (url: string, schema: string): Promise<string[]> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (
      await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE 'keystrata%' ORDER BY table_name", [schema])
    ).rows.map((r) => r.table_name);
  } finally {
    await client.end();
  }
};

describe('keystrata CLI with keyStore.schema on PostgreSQL', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('issue 13 §1: keystrata init with keyStore.schema creates the key tables in that schema, where the application opens the same keys', async () => {
    const url = await createDatabase(server.url, 'keystrata_cli_schema');
    const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-schema-'));
    const run = (args: string[]) => {
      const result = keystrata(dir, args);
      expect(result.status, `keystrata ${args.join(' ')}: ${result.stderr}`).toBe(0);
      return result.stdout;
    };
    run(['hsm', 'init-dev']);
    const configFile = join(dir, 'keystrata.config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(configFile, JSON.stringify({ ...config, keyStore: { url, schema: 'keystrata' } }, null, 2));
    run(['init']);
    expect(await tablesIn(url, 'public')).toEqual([]);
    expect(await tablesIn(url, 'keystrata')).toEqual(expect.arrayContaining(['keystrata_cmk', 'keystrata_dek', 'keystrata_kek']));
    const status = JSON.parse(run(['status', '--json'])) as { keyrings: Array<{ keyring: string; cmks: unknown[] }> };
    expect(status.keyrings.map((k) => [k.keyring, k.cmks.length])).toEqual([['default', 1]]);
    const app = new SqlKeyStore(await createPostgresDriver({ database: url, schema: 'keystrata' }));
    try {
      expect((await app.listCmks()).map((c) => [c.keyring, c.version, c.state])).toEqual([['default', 1, 'primary']]);
    } finally {
      await app.close();
    }
  });
});
