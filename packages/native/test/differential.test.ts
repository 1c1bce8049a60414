import { createCipheriv, createDecipheriv, randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AeadKey, openValues, sealValues } from '../lib/index.mjs';

/** Lengths 0..64 KiB, weighted to small: most under 256 bytes, some to 4 KiB, a few up to 64 KiB. */
function randomLength(): number {
  const roll = Math.random();
  if (roll < 0.8) return randomInt(0, 257);
  if (roll < 0.998) return randomInt(0, 4097);
  return randomInt(0, 65_537);
}

function nodeSeal(key: Buffer, iv: Buffer, plaintext: Buffer, aad: Buffer) {
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(aad);
  return { ciphertext: Buffer.concat([cipher.update(plaintext), cipher.final()]), tag: cipher.getAuthTag() };
}

function nodeOpens(key: Buffer, iv: Buffer, ciphertext: Buffer, tag: Buffer, aad: Buffer): boolean {
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  decipher.setAuthTag(tag);
  decipher.setAAD(aad);
  decipher.update(ciphertext);
  try {
    decipher.final();
    return true;
  } catch {
    return false;
  }
}

const TOTAL_CASES = 100_000;
const BATCH = 2000;
const KEYS_PER_BATCH = 50;

describe('issue 16 §correctness: native against node:crypto', () => {
  it('issue 16 §correctness: 100,000 random cases (lengths 0..64 KiB, random AAD and keys) seal byte for byte like node:crypto, and tampered ones fail alone', () => {
    let compared = 0;
    let tampered = 0;
    for (let done = 0; done < TOTAL_CASES; done += BATCH) {
      const rawKeys = Array.from({ length: KEYS_PER_BATCH }, () => randomBytes(32));
      const keys = rawKeys.map((bytes) => new AeadKey(bytes));
      try {
        const cases = Array.from({ length: BATCH }, () => {
          const k = randomInt(0, KEYS_PER_BATCH);
          return { k, iv: randomBytes(12), plaintext: randomBytes(randomLength()), aad: randomBytes(Math.random() < 0.1 ? 0 : randomInt(0, 300)) };
        });
        const sealed = sealValues(cases.map((c) => ({ key: keys[c.k]!, iv: c.iv, plaintext: c.plaintext, aad: c.aad })));
        // Every 7th value gets one bit flipped in its ciphertext, tag, AAD or IV; the others must open.
        const opened = openValues(
          cases.map((c, i) => {
            const ciphertext = Buffer.from(sealed[i]!.ciphertext);
            const tag = Buffer.from(sealed[i]!.tag);
            const aad = Buffer.from(c.aad);
            const iv = Buffer.from(c.iv);
            if (i % 7 === 3) {
              const targets = [ciphertext, tag, aad, iv].filter((b) => b.length > 0);
              const target = targets[randomInt(0, targets.length)]!;
              target[randomInt(0, target.length)]! ^= 1 << randomInt(0, 8);
            }
            return { key: keys[c.k]!, iv, ciphertext, tag, aad };
          }),
        );
        cases.forEach((c, i) => {
          const expected = nodeSeal(rawKeys[c.k]!, c.iv, c.plaintext, c.aad);
          if (!expected.ciphertext.equals(sealed[i]!.ciphertext) || !expected.tag.equals(sealed[i]!.tag)) {
            expect.fail(`case ${done + i}: native and node:crypto differ (plaintext ${c.plaintext.length} bytes, aad ${c.aad.length} bytes)`);
          }
          const result = opened[i]!;
          if (i % 7 === 3) {
            tampered++;
            if (result.ok) expect.fail(`case ${done + i}: a tampered value opened`);
            if (nodeOpens(rawKeys[c.k]!, c.iv, expected.ciphertext, expected.tag, c.aad) !== true) expect.fail(`case ${done + i}: node:crypto cannot open the original`);
          } else if (!result.ok || !result.plaintext.equals(c.plaintext)) {
            expect.fail(`case ${done + i}: the native path did not return the plaintext`);
          }
          compared++;
        });
      } finally {
        for (const key of keys) key.release();
      }
    }
    expect(compared).toBe(TOTAL_CASES);
    expect(tampered).toBeGreaterThan(TOTAL_CASES / 8);
  });
});
