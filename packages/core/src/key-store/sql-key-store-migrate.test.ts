import { describe, expect, it } from 'vitest';
import { KeystrataError } from '../errors/keystrata-error.js';
import { SqlKeyStore } from './sql-key-store.js';
import type { SqlDriver } from './sql-driver.js';

/** A driver whose database refuses every statement with a message that quotes a secret, as drivers may. */
function refusingDriver(secret: string): SqlDriver {
  const fail = async (): Promise<never> => {
    throw Object.assign(new Error(`connection to postgres://app:${secret}@db failed`), { code: 'ECONNREFUSED' });
  };
  return { dialect: 'postgres', all: fail, run: fail, transaction: fail, close: async () => {} };
}

describe('SqlKeyStore.migrate (issue 11 §4)', () => {
  it('issue 11 §4: a failed migration is KEYSTORE_UNAVAILABLE and keeps the driver message (which may quote a password) out', async () => {
    const error = await new SqlKeyStore(refusingDriver('hunter2-password')).migrate().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(KeystrataError.isInstance(error, 'KEYSTORE_UNAVAILABLE')).toBe(true);
    expect(JSON.stringify((error as KeystrataError).toJSON())).not.toContain('hunter2-password');
    expect((error as KeystrataError).cause).toMatchObject({ name: 'Error', code: 'ECONNREFUSED' });
  });
});
