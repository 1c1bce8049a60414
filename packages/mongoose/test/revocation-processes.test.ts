import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type {} from '@keystrata/testing';
import mongoose from 'mongoose';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { envelopeDekId } from '../../core/src/adapter.js';
import { KeyHierarchy, Pkcs11RootKey } from '../../core/src/index.js';
import { MongoKeyStore } from '../src/index.js';
import { freshDbName } from './support/mongo.js';

// Issue 15 §1 on the MongoDB key store (FerretDB has no change streams): another real process with a
// warm cache (maxAgeMs 1 h) learns of a revocation through the change-log check every
// cache.revocationCheckMs (default 1 s), also through FerretDB's `join: 'cache'` metadata cache.

const READER = fileURLToPath(new URL('./support/revocation-reader.mjs', import.meta.url));
const children: ChildProcess[] = [];
const opened: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const close of opened.splice(0).reverse()) await close();
});

async function startReader(config: object): Promise<(command: string) => Promise<Record<string, unknown>>> {
  const env = { ...process.env, KEYSTRATA_REVOCATION_READER: JSON.stringify({ ...config, uri: inject('mongodbUri'), token: inject('softhsm') }) };
  const child = spawn(process.execPath, [READER], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await Promise.race([lines.next(), sleep(20_000).then(() => ({ done: true, value: undefined }))]);
    if (line.done) throw new Error('the reader process did not answer');
    return JSON.parse(line.value as string) as Record<string, unknown>;
  };
  expect(await next()).toEqual({ ready: true });
  return async (command) => {
    child.stdin!.write(`${command}\n`);
    return next();
  };
}

describe('issue 15 §1 revocation reaches another process (MongoKeyStore on FerretDB or MONGODB_URI, SoftHSM2)', () => {
  it('issue 15 §1 (mongodb): a process with a warm cache (maxAgeMs 1 h) refuses a DEK disabled and a KEK disabled by another process', async () => {
    const client = await new mongoose.mongo.MongoClient(inject('mongodbUri'), { serverSelectionTimeoutMS: 10_000 }).connect();
    const dbName = freshDbName('ks_revoke');
    opened.push(async () => {
      await client.db(dbName).dropDatabase();
      await client.close();
    });
    const token = inject('softhsm');
    const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
    opened.push(() => rootKey.close());
    const cmkLabelPrefix = `revoke-${Math.random().toString(36).slice(2)}`;
    const h = await KeyHierarchy.create({ rootKey, keyStore: new MongoKeyStore(client.db(dbName)), cmkLabelPrefix });
    await h.provision();
    const a = await h.encryptValue('canary-a', { model: 'Patient', field: 'ssn', recordId: 'r1', segment: 'a' });
    const b = await h.encryptValue('canary-b', { model: 'Patient', field: 'ssn', recordId: 'r1', segment: 'b' });
    const send = await startReader({ dbName, cmkLabelPrefix, cache: { maxAgeMs: 3_600_000 } });
    expect(await send(`decrypt a ${a}`)).toEqual({ value: 'canary-a' });
    expect(await send(`decrypt b ${b}`)).toEqual({ value: 'canary-b' });
    await h.disable({ kind: 'dek', id: envelopeDekId(a) });
    expect(await send(`spin a ${a} 8000`)).toEqual({ code: 'KEY_DISABLED' });
    expect(await send(`decrypt b ${b}`)).toEqual({ value: 'canary-b' });
    await h.disable({ kind: 'kek', version: 1 });
    expect(await send(`spin b ${b} 8000`)).toEqual({ code: 'KEY_DISABLED' });
  }, 60_000);
});
