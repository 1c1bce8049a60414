import Database from 'better-sqlite3';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { envelopeDekId } from '../src/adapter.js';
import { createSqliteDriver, KeyHierarchy, SqlKeyStore } from '../src/index.js';
import { postgresStack, sqliteStack } from './stacks.js';

// Issue 15 §1: the revocation sequence (keystrata_key_change) as the databases hold it.

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});
const context = (segment: string) => ({ model: 'Patient', field: 'ssn', recordId: 'r1', segment });

describe('issue 15 §1 the key-change log', () => {
  it('issue 15 §1: a SQLite key store from before the change log migrates in place, keeps its keys, and logs every state change from then on with rising seqs', async () => {
    const stack = await sqliteStack();
    opened.push(stack);
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `log-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const stored = await h.encryptValue('canary-old', context('a'));
    // The store as an older release left it: no change-log table.
    const raw = new Database(stack.file);
    raw.exec('DROP TABLE keystrata_key_change');
    raw.close();
    const upgraded = new SqlKeyStore(await createSqliteDriver({ database: stack.file }));
    opened.push(upgraded);
    const again = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: upgraded, cmkLabelPrefix: 'unused' });
    expect(await again.decryptValue(stored, context('a'))).toBe('canary-old');
    expect(await upgraded.listKeyChanges()).toEqual({ changes: [], latest: 0, truncated: false, anchor: null });
    const id = envelopeDekId(stored);
    await again.disable({ kind: 'dek', id });
    await again.enable({ kind: 'dek', id });
    await again.disable({ kind: 'kek', version: 1 });
    const page = await upgraded.listKeyChanges(0);
    expect(page.changes.map((c) => [c.seq, c.level, c.id, c.segment, c.state])).toEqual([
      [1, 'dek', id, 'a', 'disabled'],
      [2, 'dek', id, 'a', 'primary'],
      [3, 'kek', '1', '', 'disabled'],
    ]);
    expect(page.latest).toBe(3);
    expect(await upgraded.listKeyChanges(3)).toMatchObject({ changes: [], latest: 3, truncated: false, anchor: { seq: 3 } });
  });

  it('issue 15 §1: a LISTEN on the database hears each change after its commit, with seq and key identity only, never the wrapped key', async () => {
    const stack = await postgresStack();
    opened.push(stack);
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `log-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const stored = await h.encryptValue('canary-pg', context('a'));
    const id = envelopeDekId(stored);
    const listener = new pg.Client({ connectionString: stack.url });
    await listener.connect();
    opened.push({ close: () => listener.end() });
    const payloads: string[] = [];
    // Key changes only: listeners' own probe notifications (`probe:<uuid>`) carry nothing.
    listener.on('notification', (message) => {
      if (!(message.payload ?? '').startsWith('probe:')) payloads.push(message.payload ?? '');
    });
    await listener.query('LISTEN keystrata_key_change');
    const [before] = (await listener.query('SELECT wrapped FROM keystrata_dek WHERE id = $1', [id])).rows as Array<{ wrapped: string }>;
    const kekWrapped = ((await listener.query('SELECT wrapped FROM keystrata_kek')).rows as Array<{ wrapped: string }>).map((r) => r.wrapped);
    await h.destroy({ kind: 'dek', id });
    for (let n = 0; n < 100 && !payloads.some((p) => p.includes('"state":"destroyed"') && p.includes('"level":"dek"')); n++) await sleep(20);
    const ours = payloads.map((p) => JSON.parse(p.slice(p.indexOf(' ') + 1)) as { seq: number; level: string; id: string });
    expect(ours.filter((c) => c.level === 'dek').every((c) => c.id === id)).toBe(true);
    expect(ours.some((c) => c.level === 'dek')).toBe(true);
    const seqs = ours.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    for (const secret of [before!.wrapped, ...kekWrapped].filter((w) => w.length > 0)) for (const payload of payloads) expect(payload).not.toContain(secret.slice(0, 24));
    const logged = (await listener.query('SELECT seq, level, key_id, state FROM keystrata_key_change ORDER BY seq')).rows as Array<{ seq: number }>;
    expect(logged.map((r) => Number(r.seq))).toEqual(logged.map((_, index) => index + 1));
  });
});
