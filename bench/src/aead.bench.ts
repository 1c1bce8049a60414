// Issue 16: the core's batch AES-256-GCM on the native addon against its node:crypto fallback and
// raw node:crypto per value, in one process, interleaved round by round; plus the addon alone,
// blind indexes (HMAC-SHA256) and a C loop over OpenSSL (the floor). Measurements, not tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type EncryptItem, KeyHierarchy } from '@keystrata/core';
import { MemoryKeyStore, SoftwareRootKey } from '@keystrata/core/testing';
import { AeadKey, openValues, sealValues } from '@keystrata/native';
import { it } from 'vitest';
import { measureCFloor } from './aead/floor.js';
import { QUICK } from './config.js';
import { emailOf, ROWS, ssnOf, tenantOf } from './data.js';
import { PARTS_DIR } from './paths.js';
import { RawGcm } from './raw.js';

const rows = QUICK ? 1000 : ROWS;
const ROUNDS = QUICK ? { warmup: 0, rounds: 1 } : { warmup: 2, rounds: 9 };
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** µs per value of one timed call. */
async function time(values: number, run: () => unknown): Promise<number> {
  gc();
  const started = performance.now();
  await run();
  return ((performance.now() - started) * 1000) / values;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

it('issue 16: native batch AES-GCM against node:crypto (measured, not asserted)', async () => {
  const hierarchy = (aead: 'native' | 'node:crypto') => KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore(), aead });
  const [native, fallback] = await Promise.all([hierarchy('native'), hierarchy('node:crypto')]);
  await Promise.all([native.provision(), fallback.provision()]);
  const items: EncryptItem[] = [];
  for (let seq = 0; seq < rows; seq++) {
    const context = { model: 'Patient', recordId: `p${seq}`, segment: tenantOf(seq) };
    items.push({ value: emailOf(seq), context: { ...context, field: 'email' } }, { value: ssnOf(seq), context: { ...context, field: 'ssn' } });
  }
  const indexItems = items.filter((item) => item.context.field === 'email').map(({ value, context }) => ({ value, model: context.model, field: context.field }));
  const plaintexts = items.map((item) => item.value as string);
  const raw = new RawGcm();
  const rawKeys = Array.from({ length: 100 }, (_, i) => new AeadKey(Buffer.alloc(32, i + 1)));
  const aad = Buffer.alloc(40, 7);
  const addonItems = plaintexts.map((value, i) => ({ key: rawKeys[i % 100]!, iv: Buffer.alloc(12, i & 0xff), plaintext: Buffer.from(value), aad }));
  const stored = { native: await native.encryptValues(items), fallback: await fallback.encryptValues(items), raw: raw.encryptAll(plaintexts) };
  const addonSealed = sealValues(addonItems).map((s, i) => ({ ...addonItems[i]!, ciphertext: s.ciphertext, tag: s.tag }));
  const decryptItems = (texts: string[]) => texts.map((ciphertext, i) => ({ ciphertext, context: items[i]!.context }));
  const [nativeReads, fallbackReads] = [decryptItems(stored.native), decryptItems(stored.fallback)];
  const n = items.length;
  const variants: Record<string, () => Promise<number>> = {
    'core native: encryptValues': () => time(n, () => native.encryptValues(items)),
    'core node:crypto: encryptValues': () => time(n, () => fallback.encryptValues(items)),
    'core native: B1 (encryptValues + blindIndexes)': () => time(n, async () => Promise.all([native.encryptValues(items), native.blindIndexes(indexItems)])),
    'core node:crypto: B1 (encryptValues + blindIndexes)': () => time(n, async () => Promise.all([fallback.encryptValues(items), fallback.blindIndexes(indexItems)])),
    'core native: blindIndexes (per index)': () => time(indexItems.length, () => native.blindIndexes(indexItems)),
    'core node:crypto: blindIndexes (per index)': () => time(indexItems.length, () => fallback.blindIndexes(indexItems)),
    'core native: B2 (decryptValues)': () => time(n, () => native.decryptValues(nativeReads)),
    'core node:crypto: B2 (decryptValues)': () => time(n, () => fallback.decryptValues(fallbackReads)),
    'raw node:crypto: encrypt per value': () => time(n, () => raw.encryptAll(plaintexts)),
    'raw node:crypto: decrypt per value': () => time(n, () => raw.decryptAll(stored.raw)),
    'raw node:crypto: HMAC-SHA256 per value': () => time(n, () => plaintexts.map((v) => raw.hmac(v))),
    'addon alone: sealValues': () => time(n, () => sealValues(addonItems)),
    'addon alone: openValues': () => time(n, () => openValues(addonSealed)),
  };
  const names = Object.keys(variants);
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]]));
  for (let round = 0; round < ROUNDS.warmup + ROUNDS.rounds; round++) {
    // Rotated order, so no variant always runs first or after the same neighbour.
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length]!;
      const micros = await variants[name]!();
      if (round >= ROUNDS.warmup) samples[name]!.push(micros);
    }
  }
  const micros = Object.fromEntries(names.map((name) => [name, { median: median(samples[name]!), min: Math.min(...samples[name]!), max: Math.max(...samples[name]!) }]));
  const section = {
    generatedAt: new Date().toISOString(),
    quick: QUICK,
    values: n,
    valueBytes: 40,
    segments: 100,
    rounds: ROUNDS,
    micros,
    cFloor: measureCFloor(),
    node: process.version,
    openssl: process.versions.openssl,
  };
  mkdirSync(join(PARTS_DIR, 'sections'), { recursive: true });
  writeFileSync(join(PARTS_DIR, 'sections', 'aead.json'), `${JSON.stringify(section, null, 2)}\n`);
  for (const key of rawKeys) key.release();
  await Promise.all([native.close(), fallback.close()]);
  const { aeadSection } = await import('./report-aead.js');
  console.log(aeadSection());
}, 600_000);
