import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject, it } from 'vitest';
import { KeyHierarchy, Pkcs11RootKey, SqlKeyStore, createSqliteDriver } from '../src/index.js';
import { interleave } from '@keystrata/testing/measure';

const VALUES = 10_000;
const SEGMENTS = 100;

it('measures decrypting 10,000 values across 100 segments: HSM calls, key-store queries, µs/value vs raw AES-256-GCM', async () => {
  const token = inject('softhsm');
  const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: join(mkdtempSync(join(tmpdir(), 'bench-')), 'keys.db') }));
  const h = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix: `bench-${Date.now()}`, cache: { maxEntries: 10_000 } });
  await h.provision();
  const value = (i: number) => `patient-${String(i).padStart(6, '0')}@clinic.example.org-xyz`; // ~40 bytes
  const items = Array.from({ length: VALUES }, (_, i) => ({ value: value(i), context: { model: 'Patient', field: 'email', recordId: `p${i}`, segment: `tenant-${i % SEGMENTS}` } }));
  const stored = await h.encryptValues(items);
  const reads = stored.map((ciphertext, i) => ({ ciphertext, context: items[i]!.context }));

  h.clearCache();
  const s0 = h.stats();
  await h.decryptValues(reads);
  const s1 = h.stats();
  await h.decryptValues(reads);
  const s2 = h.stats();

  const rawKey = randomBytes(32);
  const rawSealed = items.map(({ value: v }) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', rawKey, iv);
    const ct = Buffer.concat([cipher.update(v, 'utf8'), cipher.final()]);
    return { iv, ct, tag: cipher.getAuthTag() };
  });
  const timings = await interleave(
    {
      rawDecrypt: () =>
        rawSealed.map(({ iv, ct, tag }) => {
          const d = createDecipheriv('aes-256-gcm', rawKey, iv, { authTagLength: 16 });
          d.setAuthTag(tag);
          return Buffer.concat([d.update(ct), d.final()]).toString('utf8');
        }),
      keystrataDecryptWarm: () => h.decryptValues(reads),
      rawEncrypt: () =>
        items.map(({ value: v }) => {
          const c = createCipheriv('aes-256-gcm', rawKey, randomBytes(12));
          const out = Buffer.concat([c.update(v, 'utf8'), c.final()]);
          return [out, c.getAuthTag()];
        }),
      keystrataEncryptWarm: () => h.encryptValues(items),
    },
    VALUES,
  );
  const result = {
    machine: { node: process.version, platform: `${process.platform}/${process.arch}` },
    workload: { values: VALUES, segments: SEGMENTS, valueBytes: value(0).length },
    cold: { hsmCalls: s1.hsmCalls - s0.hsmCalls, keyStoreQueries: s1.keyStoreQueries - s0.keyStoreQueries },
    warm: { hsmCalls: s2.hsmCalls - s1.hsmCalls, keyStoreQueries: s2.keyStoreQueries - s1.keyStoreQueries },
    timings,
    ratios: {
      decryptVsRaw: timings.keystrataDecryptWarm!.medianMicros / timings.rawDecrypt!.medianMicros,
      encryptVsRaw: timings.keystrataEncryptWarm!.medianMicros / timings.rawEncrypt!.medianMicros,
    },
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/hierarchy-latest.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  await h.close();
});
