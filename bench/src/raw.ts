import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { mainBatches } from './data.js';

/** How the raw variant is described in the report. */
export const RAW_DESCRIPTION = 'node:crypto AES-256-GCM, random 96-bit IV (one randomBytes call per batch), base64url(iv‖ct‖tag); no ORM, no AAD, no key management';

/**
 * The floor: Node's own AES-256-GCM on the same values, one random 96-bit IV and a 128-bit tag
 * per value, stored as base64url(iv ‖ ciphertext ‖ tag) so that, like every ORM variant, it
 * produces and consumes strings. No key management, no AAD, no envelope header, no ORM.
 */
export class RawGcm {
  readonly #key = randomBytes(32);
  readonly #hmacKey = randomBytes(32);

  /** One value; `iv` defaults to fresh random bytes (encryptAll draws all IVs of a batch at once). */
  encrypt(value: string, iv: Uint8Array = randomBytes(12)): string {
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: 16 });
    const ct = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64url');
  }

  decrypt(stored: string): string {
    const bytes = Buffer.from(stored, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, 12), { authTagLength: 16 });
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString('utf8');
  }

  /** HMAC-SHA256 of a value (what a keyed blind index costs at least); reported beside the floor, not in it. */
  hmac(value: string): string {
    return createHmac('sha256', this.#hmacKey).update(value, 'utf8').digest('base64url');
  }

  /**
   * A batch, with the batch's IVs from one randomBytes call (as the core does): a random 12-byte
   * IV per call to randomBytes costs about as much as the AES-GCM itself, so drawing them one by
   * one would make the floor ~70 % higher than it needs to be.
   */
  encryptAll(values: readonly string[]): string[] {
    const ivs = randomBytes(12 * values.length);
    return values.map((v, i) => this.encrypt(v, ivs.subarray(12 * i, 12 * i + 12)));
  }

  /** Decrypts and checks the round trip against `expected` (cheap; keeps the work observable). */
  decryptAll(stored: readonly string[], expected?: readonly string[]): string[] {
    const out = stored.map((s) => this.decrypt(s));
    if (expected !== undefined && (out[0] !== expected[0] || out.at(-1) !== expected.at(-1))) throw new Error('raw AES-256-GCM round trip failed');
    return out;
  }
}

/** µs per value of the raw primitives, measured once (reported beside the floor, for the profile). */
export function rawPrimitives(): Record<string, number> {
  const raw = new RawGcm();
  const values = mainBatches()
    .flat()
    .map((r) => r.email);
  const time = (fn: () => unknown): number => {
    fn();
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      fn();
      samples.push(((performance.now() - started) * 1000) / values.length);
    }
    return samples.sort((a, b) => a - b)[2]!;
  };
  const sealed = raw.encryptAll(values);
  return {
    gcmEncryptMicros: time(() => raw.encryptAll(values)),
    gcmEncryptOneRandomBytesCallPerValueMicros: time(() => values.map((v) => raw.encrypt(v))),
    gcmDecryptMicros: time(() => raw.decryptAll(sealed)),
    hmacSha256Micros: time(() => values.map((v) => raw.hmac(v))),
  };
}
