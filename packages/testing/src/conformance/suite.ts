import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConformanceContext, ConformanceHarness } from './harness.js';

const ENVELOPE = /^ks1\.[A-Za-z0-9_-]+$/;
const errorCode = async (work: Promise<unknown>): Promise<string> =>
  work.then(
    () => 'none',
    (error: { code?: unknown }) => (typeof error?.code === 'string' ? error.code : `untyped: ${String(error)}`),
  );

function canaries(tag: string) {
  return { tenantId: 'tenant-a', ssn: `CANARY-SSN-${tag}-000`, email: `canary-${tag}@example.test` };
}

/**
 * The cases every ORM adapter must pass: the same canary, swap, tamper and fail-closed checks for
 * Prisma, TypeORM and Mongoose.
 *
 * @example
 * ```ts
 * describeAdapterConformance({ name: 'prisma/sqlite', setup: async () => ({ … }) });
 * ```
 */
export function describeAdapterConformance(harness: ConformanceHarness): void {
  describe(`adapter conformance: ${harness.name}`, () => {
    let c: ConformanceContext;
    beforeEach(async () => {
      c = await harness.setup();
    });
    afterEach(async () => {
      await c.teardown();
    });

    it('stores only ciphertext for marked fields and returns plaintext through the ORM', async () => {
      const patient = canaries('store');
      const id = await c.create(patient);
      const raw = await c.rawRead(id);
      expect(JSON.stringify(raw)).not.toContain('CANARY');
      expect(JSON.stringify(raw).toLowerCase()).not.toContain('canary');
      expect(raw.ssn).toMatch(ENVELOPE);
      expect(raw.email).toMatch(ENVELOPE);
      expect(await c.read(id)).toMatchObject(patient);
    });

    it('finds a record by a marked field through its blind index', async () => {
      const a = await c.create(canaries('find-a'));
      await c.create(canaries('find-b'));
      expect(await c.findIdsByEmail(canaries('find-a').email)).toEqual([a]);
      expect(await c.findIdsByEmail('nobody@example.test')).toEqual([]);
    });

    it('updates a marked field as ciphertext', async () => {
      const id = await c.create(canaries('update'));
      await c.updateSsn(id, 'CANARY-SSN-updated-999');
      expect(JSON.stringify(await c.rawRead(id))).not.toContain('CANARY');
      expect((await c.read(id)).ssn).toBe('CANARY-SSN-updated-999');
    });

    it('fails to read a value swapped between two records', async () => {
      const a = await c.create(canaries('swap-a'));
      const b = await c.create({ ...canaries('swap-b'), tenantId: 'tenant-a' });
      await c.rawWrite(b, 'ssn', String((await c.rawRead(a)).ssn));
      expect(await errorCode(c.read(b))).toBe('CIPHERTEXT_TAMPERED');
      expect((await c.read(a)).ssn).toBe(canaries('swap-a').ssn);
    });

    it('fails to read a value moved to another field of the same record', async () => {
      const a = await c.create(canaries('field'));
      await c.rawWrite(a, 'ssn', String((await c.rawRead(a)).email));
      expect(await errorCode(c.read(a))).toBe('CIPHERTEXT_TAMPERED');
    });

    it('fails to read a value moved to a record of another segment', async () => {
      const a = await c.create(canaries('segment-a'));
      const b = await c.create({ ...canaries('segment-b'), tenantId: 'tenant-b' });
      await c.rawWrite(b, 'ssn', String((await c.rawRead(a)).ssn));
      expect(await errorCode(c.read(b))).toBe('CIPHERTEXT_TAMPERED');
    });

    it('fails on a tampered value and never passes a non-envelope through as plaintext', async () => {
      const a = await c.create(canaries('tamper'));
      const stored = String((await c.rawRead(a)).ssn);
      const flipped = stored.slice(0, 20) + (stored[20] === 'A' ? 'B' : 'A') + stored.slice(21);
      await c.rawWrite(a, 'ssn', flipped);
      expect(['CIPHERTEXT_TAMPERED', 'CIPHERTEXT_MALFORMED']).toContain(await errorCode(c.read(a)));
      await c.rawWrite(a, 'ssn', 'plaintext-that-must-not-be-read');
      expect(await errorCode(c.read(a))).toBe('CIPHERTEXT_MALFORMED');
      await c.rawWrite(a, 'ssn', stored.slice(0, stored.length - 4));
      expect(['CIPHERTEXT_TAMPERED', 'CIPHERTEXT_MALFORMED']).toContain(await errorCode(c.read(a)));
    });

    it('fails closed on a revoked key: reads and writes throw KEY_DISABLED, nothing is written', async () => {
      const a = await c.create(canaries('revoke'));
      const other = await c.create({ ...canaries('revoke-other'), tenantId: 'tenant-b' });
      await c.revokeTenant('tenant-a');
      expect(await errorCode(c.read(a))).toBe('KEY_DISABLED');
      const before = await c.rawCount();
      expect(await errorCode(c.create(canaries('revoke-new')))).toBe('KEY_DISABLED');
      expect(await c.rawCount()).toBe(before);
      expect((await c.read(other)).ssn).toBe(canaries('revoke-other').ssn);
    });

    it('fails closed with the HSM unreachable: writes throw a typed error and nothing is written', async () => {
      await c.create(canaries('hsm'));
      const before = await c.rawCount();
      await c.breakHsm();
      expect(await errorCode(c.create({ ...canaries('hsm-new'), tenantId: 'tenant-new' }))).toBe('HSM_UNAVAILABLE');
      expect(await c.rawCount()).toBe(before);
    });

    it('rejects queries that cannot work on ciphertext with QUERY_UNSUPPORTED', async () => {
      await c.create(canaries('query'));
      const entries = Object.entries(c.unsupportedQueries);
      expect(entries.length).toBeGreaterThan(0);
      for (const [name, query] of entries) expect(await errorCode(query()), name).toBe('QUERY_UNSUPPORTED');
    });
  });
}
