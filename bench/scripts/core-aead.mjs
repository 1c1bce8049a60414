// One process of the issue 16 core measurement (spawned by src/core-aead.bench.ts, once per AEAD
// path): the core alone on the bench's data (10,000 rows × 2 fields of 40 bytes over 100 tenants,
// warm key cache) against raw node:crypto AES-256-GCM on the same values, interleaved round by
// round. The hierarchy is SoftwareRootKey + MemoryKeyStore: the warm path never touches either.
// Prints one JSON line: the AEAD path the core reports (`hierarchy.stats().aead`, when this build
// has one) and µs per value, per round.
//   node scripts/core-aead.mjs [rounds]            (KEYSTRATA_AEAD=node forces the fallback, where the core supports it)
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { KeyHierarchy } from '@keystrata/core';
import { MemoryKeyStore, SoftwareRootKey } from '@keystrata/core/testing';
import { items, rows } from './bench-values.mjs';

const rounds = Number(process.argv[2] ?? 9);
const indexItems = rows.map((r) => ({ value: r.email, model: 'Patient', field: 'email' }));

const hierarchy = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore(), cache: { maxAgeMs: 3_600_000 } });
await hierarchy.provision();
const sealed = await hierarchy.encryptValues(items);
const reads = sealed.map((ciphertext, i) => ({ ciphertext, context: items[i].context }));

// Raw: what the peers call, as bench/src/raw.ts does it (one randomBytes call per batch for the IVs).
const key = randomBytes(32);
const rawEncrypt = () => {
  const ivs = randomBytes(12 * items.length);
  return items.map(({ value }, i) => {
    const iv = ivs.subarray(12 * i, 12 * i + 12);
    const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    return Buffer.concat([iv, c.update(value, 'utf8'), c.final(), c.getAuthTag()]).toString('base64url');
  });
};
const rawSealed = rawEncrypt();
const rawDecrypt = () =>
  rawSealed.map((s) => {
    const b = Buffer.from(s, 'base64url');
    const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12), { authTagLength: 16 });
    d.setAuthTag(b.subarray(b.length - 16));
    return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]).toString('utf8');
  });

const steps = {
  // B1's core: encrypt 20,000 values + 10,000 blind indexes, per encrypted value.
  coreSeal: async () => {
    const [out, indexes] = [await hierarchy.encryptValues(items), await hierarchy.blindIndexes(indexItems)];
    if (out.length !== items.length || indexes.length !== rows.length) throw new Error('core seal');
  },
  coreEncryptOnly: async () => {
    if ((await hierarchy.encryptValues(items)).length !== items.length) throw new Error('core encrypt');
  },
  coreOpen: async () => {
    const out = await hierarchy.decryptValues(reads);
    if (out[0] !== items[0].value || out.at(-1) !== items.at(-1).value) throw new Error('core open');
  },
  rawSeal: () => rawEncrypt(),
  rawOpen: () => {
    if (rawDecrypt()[0] !== items[0].value) throw new Error('raw open');
  },
};
const samples = Object.fromEntries(Object.keys(steps).map((k) => [k, []]));
const names = Object.keys(steps);
for (let r = 0; r < rounds + 2; r++) {
  for (let s = 0; s < names.length; s++) {
    const name = names[(s + r) % names.length]; // order rotated every round
    globalThis.gc?.();
    const t = performance.now();
    await steps[name]();
    if (r >= 2) samples[name].push(((performance.now() - t) * 1000) / items.length);
  }
}
const summary = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { median: sorted[sorted.length >> 1], min: sorted[0], max: sorted.at(-1) };
};
const aead = hierarchy.stats().aead;
await hierarchy.close();
console.log(
  JSON.stringify({
    aead: typeof aead === 'string' ? aead : null,
    forced: process.env.KEYSTRATA_AEAD ?? null,
    node: process.version,
    values: items.length,
    rounds,
    micros: Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, summary(xs)])),
  }),
);
