import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createSqliteDriver, KeyHierarchy, Pkcs11RootKey, SqlKeyStore, type FieldContext } from '../src/index.js';
import { envelopeDekId } from '../src/adapter.js';

// Issue 11 §5 + §3a (write side): a second, real process keeps writing to one SQLite key store while
// this one revokes or rotates the segment's DEK; after `writeRecheckMs` it must stop using the old DEK.

const WRITER = fileURLToPath(new URL('./support/writer-process.mjs', import.meta.url));
const ctx = (segment: string, recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });
const children: ChildProcess[] = [];
const opened: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

/** Starts the writer process; `send` writes one command and resolves with its JSON answer. */
async function startWriter(config: object): Promise<(command: string) => Promise<Record<string, string>>> {
  const child = spawn(process.execPath, [WRITER], { env: { ...process.env, KEYSTRATA_TEST_WRITER: JSON.stringify(config) }, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await Promise.race([lines.next(), sleep(15_000).then(() => ({ done: true, value: undefined }))]);
    if (line.done) throw new Error('the writer process did not answer');
    return JSON.parse(line.value as string) as Record<string, string>;
  };
  expect(await next()).toEqual({ ready: true });
  return async (command) => {
    child.stdin!.write(`${command}\n`);
    return next();
  };
}

async function setup() {
  const token = inject('softhsm');
  const database = join(mkdtempSync(join(tmpdir(), 'write-recheck-')), 'keys.db');
  const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
  opened.push(rootKey);
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database }));
  opened.push(keyStore);
  const cmkLabelPrefix = `recheck-${Math.random().toString(36).slice(2)}`;
  const h = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix });
  await h.provision();
  // The writer caches keys for a minute but re-checks its current DEKs every 100 ms.
  const send = await startWriter({ database, token, cmkLabelPrefix, cache: { maxAgeMs: 60_000, writeRecheckMs: 100 } });
  return { h, send };
}

describe('issue 11 §5 writes re-check the current DEK in the key store (two processes, SoftHSM2 + SQLite)', () => {
  it('issue 11 §5: a DEK revoked by another process is refused for new writes after writeRecheckMs, not used for up to maxAgeMs', async () => {
    const { h, send } = await setup();
    const first = await send('encrypt tenant-a');
    expect(first.dek).toMatch(/^[0-9a-f]{32}$/);
    await h.disable({ kind: 'dek', id: first.dek! });
    await sleep(250); // longer than the writer's writeRecheckMs
    expect(await send('encrypt tenant-a')).toEqual({ code: 'KEY_DISABLED' });
    expect(await send('encrypt tenant-b')).toHaveProperty('dek'); // other segments keep working
  });

  it("issue 11 §3a: after another process rotates the segment's DEK, writes switch to the new primary within writeRecheckMs", async () => {
    const { h, send } = await setup();
    const first = await send('encrypt tenant-a');
    const rotated = await h.rotateDek({ segment: 'tenant-a', hook: { scan: async () => ({ records: [], cursor: null }), write: async () => 0 } });
    await sleep(250);
    const second = await send('encrypt tenant-a');
    expect(second.dek).toBeDefined();
    expect(second.dek).not.toBe(first.dek);
    expect(second.dek).toBe(rotated.dekId);
    expect(await h.decryptValue(second.envelope!, ctx('tenant-a', 'w1'))).toBe('canary-from-writer');
    expect(envelopeDekId(second.envelope!)).toBe(second.dek);
  });

  it('issue 11 §5: the re-check covers every segment of a batch in one key-store query, with no HSM call', async () => {
    const token = inject('softhsm');
    const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
    opened.push(rootKey);
    const keyStore = new SqlKeyStore(await createSqliteDriver({ database: join(mkdtempSync(join(tmpdir(), 'write-recheck-')), 'keys.db') }));
    opened.push(keyStore);
    const h = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix: `recheck-${Math.random().toString(36).slice(2)}`, cache: { writeRecheckMs: 0 } });
    await h.provision();
    const items = Array.from({ length: 50 }, (_, i) => ({ value: `v${i}`, context: ctx(`tenant-${i}`, `r${i}`) }));
    await h.encryptValues(items);
    const before = h.stats();
    await h.encryptValues(items);
    const after = h.stats();
    // Plus at most one look at the revocation sequence, when cache.revocationCheckMs has passed (issue 15 §1).
    const checks = (after.revocations?.checks ?? 0) - (before.revocations?.checks ?? 0);
    expect(checks).toBeLessThanOrEqual(1);
    expect(after.keyStoreQueries - before.keyStoreQueries - checks).toBe(1);
    expect(after.hsmCalls - before.hsmCalls).toBe(0);
  });
});
