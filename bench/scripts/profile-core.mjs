// CPU-profile driver for the core's per-value hot path (no ORM, no HSM: SoftwareRootKey +
// MemoryKeyStore, which only matter on cache misses). Same data as the bench: 10,000 rows × 2
// fields across 100 tenants. Usage:
//   node --cpu-prof --cpu-prof-dir=/tmp/ks-prof scripts/profile-core.mjs [encrypt|decrypt|both]
//   node scripts/cpuprofile-top.mjs /tmp/ks-prof/*.cpuprofile
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { KeyHierarchy } from '@keystrata/core';
import { buildAad, decodeEnvelope, decodeFieldValue, encodeFieldValue, encodeHeader, openEnvelope, sealEnvelope } from '@keystrata/core/adapter';
import { MemoryKeyStore, SoftwareRootKey } from '@keystrata/core/testing';
import { items, rows } from './bench-values.mjs';

const mode = process.argv[2] ?? 'both';

const hierarchy = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore(), cache: { maxAgeMs: 3_600_000 } });
await hierarchy.provision();
const sealed = await hierarchy.encryptValues(items);
const reads = sealed.map((ciphertext, i) => ({ ciphertext, context: items[i].context }));

const key = randomBytes(32);
const raw = items.map(({ value }) => {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  return Buffer.concat([iv, c.update(value, 'utf8'), c.final(), c.getAuthTag()]).toString('base64url');
});
const rawEncrypt = () =>
  items.map(({ value }) => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    return Buffer.concat([iv, c.update(value, 'utf8'), c.final(), c.getAuthTag()]).toString('base64url');
  });
const rawDecrypt = () =>
  raw.map((s) => {
    const b = Buffer.from(s, 'base64url');
    const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12), { authTagLength: 16 });
    d.setAuthTag(b.subarray(b.length - 16));
    return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]).toString('utf8');
  });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(name, fn, rounds = 15) {
  for (let i = 0; i < 3; i++) await fn();
  const samples = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await fn();
    samples.push(((performance.now() - t) * 1000) / items.length);
  }
  console.log(`${name.padEnd(28)} ${median(samples).toFixed(2)} µs/value (min ${Math.min(...samples).toFixed(2)})`);
}
// The core's per-value pipeline called directly (own DEK), to split the core's cost from raw GCM.
const dekId = randomBytes(16).toString('hex');
const dek = randomBytes(32);
const own = items.map(({ value, context }) => sealEnvelope(dek, dekId, randomBytes(12), encodeFieldValue(value), context));
const aads = own.map((text, i) => buildAad(decodeEnvelope(text).header, items[i].context));
const rawWithAad = items.map(({ value }, i) => {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  c.setAAD(aads[i]);
  return { s: Buffer.concat([iv, c.update(value, 'utf8'), c.final(), c.getAuthTag()]).toString('base64url'), aad: aads[i] };
});
const steps = {
  'raw + batched IVs': () => {
    const ivs = randomBytes(12 * items.length);
    return items.map(({ value }, i) => {
      const iv = ivs.subarray(12 * i, 12 * i + 12);
      const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
      return Buffer.concat([iv, c.update(value, 'utf8'), c.final(), c.getAuthTag()]).toString('base64url');
    });
  },
  'raw + batched IVs + AAD': () => {
    const ivs = randomBytes(12 * items.length);
    return items.map(({ value }, i) => {
      const iv = ivs.subarray(12 * i, 12 * i + 12);
      const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
      c.setAAD(aads[i]);
      return Buffer.concat([iv, c.update(value, 'utf8'), c.final(), c.getAuthTag()]).toString('base64url');
    });
  },
  'sealEnvelope pipeline': () => {
    const ivs = randomBytes(12 * items.length);
    return items.map(({ value, context }, i) => {
      const plaintext = encodeFieldValue(value);
      try {
        return sealEnvelope(dek, dekId, ivs.subarray(12 * i, 12 * i + 12), plaintext, context);
      } finally {
        plaintext.fill(0);
      }
    });
  },
};
const openSteps = {
  'raw decrypt + AAD': () =>
    rawWithAad.map(({ s, aad }) => {
      const b = Buffer.from(s, 'base64url');
      const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12), { authTagLength: 16 });
      d.setAuthTag(b.subarray(b.length - 16));
      d.setAAD(aad);
      return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]).toString('utf8');
    }),
  'openEnvelope pipeline': () =>
    own.map((text, i) => {
      const plaintext = openEnvelope(dek, decodeEnvelope(text), items[i].context);
      try {
        return decodeFieldValue(plaintext);
      } finally {
        plaintext.fill(0);
      }
    }),
  'decodeEnvelope only': () => own.map((text) => decodeEnvelope(text)),
  'buildAad only': () => own.map((_text, i) => buildAad(encodeHeader(dekId, 1), items[i].context)),
};
if (mode !== 'decrypt') {
  await time('raw encrypt', rawEncrypt);
  for (const [name, fn] of Object.entries(steps)) await time(name, fn);
  await time('core encryptValues', () => hierarchy.encryptValues(items));
  await time('core blindIndexes (e-mails)', () => hierarchy.blindIndexes(rows.map((r) => ({ value: r.email, model: 'Patient', field: 'email' }))));
}
if (mode !== 'encrypt') {
  await time('raw decrypt', rawDecrypt);
  for (const [name, fn] of Object.entries(openSteps)) await time(name, fn);
  await time('core decryptValues', () => hierarchy.decryptValues(reads));
}
await hierarchy.close();
