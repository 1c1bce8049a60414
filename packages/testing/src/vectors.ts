import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vectorsDir } from './repo-root.js';

/** One Wycheproof test case (hex fields as in the file). */
export interface WycheproofCase {
  readonly tcId: number;
  readonly comment: string;
  readonly flags: readonly string[];
  readonly result: 'valid' | 'invalid' | 'acceptable';
  readonly [field: string]: unknown;
}

/** A Wycheproof test group with its sizes in bits. */
export interface WycheproofGroup {
  readonly keySize?: number;
  readonly ivSize?: number;
  readonly tagSize?: number;
  readonly tests: readonly WycheproofCase[];
}

/** Reads `packages/testing/vectors/<name>` (Wycheproof: aes_gcm_test.json, aes_kwp_test.json, …). */
export function loadWycheproof(name: string): readonly WycheproofGroup[] {
  return (JSON.parse(readFileSync(join(vectorsDir(), name), 'utf8')) as { testGroups: WycheproofGroup[] }).testGroups;
}

/** The RFC 3394 / RFC 5649 examples. */
export function loadRfcKeyWrapVectors(): ReadonlyArray<{ name: string; alg: 'kw' | 'kwp'; kek: string; keyData: string; wrapped: string }> {
  return JSON.parse(readFileSync(join(vectorsDir(), 'rfc3394_rfc5649_vectors.json'), 'utf8'));
}

/** Hex to Buffer. */
export const hex = (value: unknown): Buffer => Buffer.from(String(value), 'hex');
