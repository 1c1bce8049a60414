import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { kwpUnwrap, kwpWrap } from '../crypto/aes-kwp.js';
import { decodeEnvelope } from '../envelope/envelope-format.js';
import { KeyHierarchy } from '../hierarchy/key-hierarchy.js';
import { createSqliteDriver } from '../key-store/sqlite-driver.js';
import { SqlKeyStore } from '../key-store/sql-key-store.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';
import { ERROR_CODES } from './error-codes.js';
import { KeystrataError } from './keystrata-error.js';

/** The message of what `run` throws (it must throw a KeystrataError). */
async function failure(run: () => unknown): Promise<KeystrataError> {
  try {
    await run();
  } catch (error) {
    expect(KeystrataError.isInstance(error), String(error)).toBe(true);
    return error as KeystrataError;
  }
  throw new Error('expected a failure');
}

/** Hint texts that belong to stored values (envelopes), not to keys or databases. */
const VALUE_WORDS = /envelope|moved from another record|another record, field or segment/i;

describe('error hints fit the situation', () => {
  it('issue 11 §4: the hint option replaces the generic hint; without it the generic one is appended', () => {
    const specific = new KeystrataError('CIPHERTEXT_MALFORMED', 'A wrapped key is short.', { hint: 'Restore the key store.' });
    expect(specific.message).toBe('CIPHERTEXT_MALFORMED: A wrapped key is short. Restore the key store.');
    expect(specific.hint).toBe('Restore the key store.');
    expect(specific.message).not.toContain(ERROR_CODES.CIPHERTEXT_MALFORMED);
    const generic = new KeystrataError('KEY_DISABLED', 'DEK 1 is disabled.');
    expect(generic.message).toBe(`KEY_DISABLED: DEK 1 is disabled. ${ERROR_CODES.KEY_DISABLED}`);
    expect(generic.hint).toBe(ERROR_CODES.KEY_DISABLED);
  });

  it('issue 11 §4: a key-wrap failure talks about the wrapped key in the key store, not about an envelope', async () => {
    const kek = randomBytes(32);
    const wrapped = kwpWrap(kek, randomBytes(32));
    const short = await failure(() => kwpUnwrap(kek, wrapped.subarray(0, 8), 32));
    const wrongSize = await failure(() => kwpUnwrap(kek, Buffer.concat([wrapped, Buffer.alloc(8)]), 32));
    const flipped = Buffer.from(wrapped);
    flipped[5]! ^= 1;
    const forged = await failure(() => kwpUnwrap(kek, flipped, 32));
    for (const error of [short, wrongSize, forged]) {
      expect(error.message).not.toMatch(VALUE_WORDS);
      expect(error.message).toMatch(/wrapped key/);
      expect(error.message).toMatch(/key store/);
    }
  });

  it('issue 11 §4: a damaged wrapped DEK in the key store is reported as a key-store problem when a value is read', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keystrata-hints-')), 'keys.db');
    const rootKey = new SoftwareRootKey();
    const hierarchy = await KeyHierarchy.create({ rootKey, keyStore: new SqlKeyStore(await createSqliteDriver({ database: file })) });
    const context = { model: 'Patient', field: 'ssn', segment: 'tenant-a' };
    try {
      await hierarchy.provision();
      const value = await hierarchy.encryptValue('123-45-6789', context);
      // The hostile DBA: the wrapped DEK's row now holds 24 bytes. A second hierarchy (cold cache) reads it.
      const db = new Database(file);
      db.prepare('UPDATE keystrata_dek SET wrapped = ?').run(randomBytes(24).toString('base64'));
      db.close();
      const reader = await KeyHierarchy.create({ rootKey, keyStore: new SqlKeyStore(await createSqliteDriver({ database: file })) });
      try {
        const error = await failure(() => reader.decryptValue(value, context));
        expect(error.message).not.toMatch(VALUE_WORDS);
        expect(error.message).toMatch(/key store/i);
      } finally {
        await reader.close();
      }
    } finally {
      await hierarchy.close().catch(() => undefined);
      await rootKey.close();
    }
  });

  it('issue 11 §4: a malformed envelope says it is not a Keystrata envelope, and that nothing was passed through', async () => {
    for (const text of ['123-45-6789', 'ks1.@@@', 'ks1.AAAA']) {
      const error = await failure(() => decodeEnvelope(text));
      expect(error.code).toBe('CIPHERTEXT_MALFORMED');
      expect(error.message).toMatch(/envelope/);
      expect(error.message).toMatch(/nothing was passed through as plaintext/);
      expect(error.message).not.toContain('123-45-6789');
    }
  });

  it('issue 11 §4: a key-store failure points at the database, not at a value', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keystrata-hints-')), 'keys.db');
    const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
    await keyStore.migrate();
    const db = new Database(file);
    db.exec('DROP TABLE keystrata_dek');
    db.close();
    try {
      const error = await failure(() => keyStore.listDeks({ keyring: 'default' } as never));
      expect(error.code).toBe('KEYSTORE_UNAVAILABLE');
      expect(error.message).toMatch(/database/);
      expect(error.message).toMatch(/tables exist/);
      expect(error.message).not.toMatch(VALUE_WORDS);
    } finally {
      await keyStore.close();
    }
  });

  it('issue 11 §4: no generic hint names a situation that only some uses of its code are in', () => {
    // The generic hints are appended to every use of their code: none may speak of envelopes only, of
    // "options validated at creation" (flags and per-call names are CONFIG_INVALID too), or of one type problem.
    for (const [code, hint] of Object.entries(ERROR_CODES)) {
      expect(hint, code).not.toMatch(/not a Keystrata envelope|validated once|unsupported type\)|only support equality/);
    }
  });
});
