/** Whether the addon loaded (false when it did not build: use node:crypto instead). */
export declare const available: boolean;
/** Why the addon did not load (class and code only), or undefined. */
export declare const loadFailure: string | undefined;
/** IV length in bytes: exactly 12. */
export declare const IV_LENGTH: 12;
/** Tag length in bytes: exactly 16. */
export declare const TAG_LENGTH: 16;
/** Key length in bytes: exactly 32. */
export declare const KEY_LENGTH: 32;
/** Uint32 words per {@link sealBatch} table entry: key index, iv, plaintext, plaintext length, aad, aad length, output. */
export declare const SEAL_STRIDE: 7;
/** Uint32 words per {@link openBatch} table entry: key index, iv, ciphertext, ciphertext length, tag, aad, aad length, output. */
export declare const OPEN_STRIDE: 8;
/** Values per native call in {@link sealValues} / {@link openValues}. */
export declare const CHUNK_VALUES: number;

/**
 * An AES-256 key copied into native memory with its initialised EVP contexts. `release()`
 * zero-fills and frees it; a released key refuses every use.
 *
 * @example
 * ```ts
 * const key = new AeadKey(randomBytes(32));
 * try { sealValues([{ key, iv: randomBytes(12), plaintext, aad }]); } finally { key.release(); }
 * ```
 */
export declare class AeadKey {
  constructor(bytes: Uint8Array);
  /** Zero-fills and frees the native copy now. Idempotent. */
  release(): void;
  /** Whether {@link AeadKey.release} has run. */
  readonly released: boolean;
  toJSON(): string;
  toString(): string;
}

/** One value for {@link sealValues}. */
export interface SealItem {
  readonly key: AeadKey;
  /** Exactly 12 bytes. */
  readonly iv: Uint8Array;
  readonly plaintext: Uint8Array;
  readonly aad?: Uint8Array;
}

/** One value for {@link openValues}. */
export interface OpenItem {
  readonly key: AeadKey;
  /** Exactly 12 bytes. */
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
  /** Exactly 16 bytes. */
  readonly tag: Uint8Array;
  readonly aad?: Uint8Array;
}

/** Per-item result of {@link openValues}: the plaintext only when the tag verified. */
export type OpenResult = { readonly ok: true; readonly plaintext: Buffer } | { readonly ok: false };

/**
 * Seals many values, one native call per {@link CHUNK_VALUES}. Invalid input throws before anything is encrypted.
 *
 * @example
 * ```ts
 * const [{ ciphertext, tag }] = sealValues([{ key, iv: randomBytes(12), plaintext: Buffer.from('hi'), aad }]);
 * ```
 */
export declare function sealValues(items: readonly SealItem[]): Array<{ ciphertext: Buffer; tag: Buffer }>;

/**
 * Opens many values; every tag is verified before its plaintext exists, and one bad value fails only itself.
 *
 * @example
 * ```ts
 * const [result] = openValues([{ key, iv, ciphertext, tag, aad }]);
 * if (result.ok) use(result.plaintext);
 * ```
 */
export declare function openValues(items: readonly OpenItem[]): OpenResult[];

/**
 * Low level: seals every entry of `table` ({@link SEAL_STRIDE} words each, offsets into `input` and
 * `output`); ciphertext then tag at each entry's output offset. Every entry is bounds-checked before
 * any is processed. `status[i]` is 0 when entry i succeeded. Returns the number of failed entries.
 *
 * @example
 * ```ts
 * const failed = sealBatch([key], table, input, output, status);
 * ```
 */
export declare function sealBatch(keys: readonly AeadKey[], table: Uint32Array, input: Uint8Array, output: Uint8Array, status: Uint8Array): number;

/**
 * Low level: opens every entry of `table` ({@link OPEN_STRIDE} words each); the plaintext is written
 * at the output offset only when the tag verified (else zero-filled). `status[i]`: 0 ok, 1 tag
 * mismatch, 2 OpenSSL failure. Returns the number of failed entries.
 *
 * @example
 * ```ts
 * const failed = openBatch([key], table, input, output, status);
 * ```
 */
export declare function openBatch(keys: readonly AeadKey[], table: Uint32Array, input: Uint8Array, output: Uint8Array, status: Uint8Array): number;

/** Uint32 words per {@link hmacBatch} table entry: key index, data, data length, output. */
export declare const MAC_STRIDE: 4;
/** HMAC-SHA256 output length in bytes: 32. */
export declare const MAC_LENGTH: 32;

/**
 * An HMAC-SHA256 key (32 bytes) copied into native memory with its keyed EVP_MAC context.
 * `release()` zero-fills and frees it; a released key refuses every use.
 *
 * @example
 * ```ts
 * const key = new MacKey(fieldKeyBytes);
 * try { hmacValues([{ key, data }]); } finally { key.release(); }
 * ```
 */
export declare class MacKey {
  constructor(bytes: Uint8Array);
  /** Zero-fills and frees the native copy now. Idempotent. */
  release(): void;
  /** Whether {@link MacKey.release} has run. */
  readonly released: boolean;
  toJSON(): string;
  toString(): string;
}

/**
 * HMAC-SHA256 of many values, one native call per {@link CHUNK_VALUES}.
 *
 * @example
 * ```ts
 * const [mac] = hmacValues([{ key, data: Buffer.from('value') }]); // 32 bytes
 * ```
 */
export declare function hmacValues(items: ReadonlyArray<{ readonly key: MacKey; readonly data: Uint8Array }>): Buffer[];

/**
 * Low level: HMAC-SHA256 of every entry of `table` ({@link MAC_STRIDE} words each) into 32 bytes at
 * its output offset; every entry is bounds-checked first. Returns the number of failed entries.
 *
 * @example
 * ```ts
 * const failed = hmacBatch([key], table, input, output, status);
 * ```
 */
export declare function hmacBatch(keys: readonly MacKey[], table: Uint32Array, input: Uint8Array, output: Uint8Array, status: Uint8Array): number;

/**
 * Test hook: releases `key` and returns its native key memory as it was just before being freed
 * (all zero when release zero-fills).
 *
 * @example
 * ```ts
 * expect(releaseForTesting(key).every((byte) => byte === 0)).toBe(true);
 * ```
 */
export declare function releaseForTesting(key: AeadKey | MacKey): Uint8Array;
