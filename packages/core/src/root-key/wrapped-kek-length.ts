import { parseWrappedKek } from './wrapped-kek-format.js';

/**
 * Refuses a wrapped KEK whose length or header its format does not explain, before the HSM sees
 * it, with `CIPHERTEXT_TAMPERED` (so the resolver audits it as `unwrap-failed`), as docs/format.md
 * promises: a bare blob must be the legacy 40 bytes, a `kw` blob must name a known mechanism and
 * have a length that mechanism promises.
 *
 * @example
 * ```ts
 * assertWrappedKekLength(Buffer.from(kek.wrapped, 'base64'));
 * ```
 */
export function assertWrappedKekLength(wrapped: Buffer): void {
  parseWrappedKek(wrapped);
}
