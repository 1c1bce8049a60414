import { KeystrataError } from '../errors/keystrata-error.js';
import type { DekChain, KeyState } from '../key-store/records.js';

/**
 * Throws the typed error for a key that cannot be used to decrypt.
 *
 * @example
 * ```ts
 * assertUsable('DEK 1f…', 'disabled'); // throws KEY_DISABLED
 * ```
 */
export function assertUsable(what: string, state: KeyState | undefined): void {
  switch (state) {
    case 'primary':
    case 'enabled':
      return;
    case 'disabled':
      throw new KeystrataError('KEY_DISABLED', `${what} is disabled.`, { details: { key: what } });
    case 'destroyed':
    case 'retired':
      throw new KeystrataError('KEY_DESTROYED', `${what} was ${state}.`, { details: { key: what } });
    default:
      throw new KeystrataError('KEY_NOT_FOUND', `${what} is not in the key store.`, { details: { key: what } });
  }
}

/**
 * Checks a DEK's whole chain (DEK, KEK version, CMK version) for decryption.
 *
 * @example
 * ```ts
 * assertChainUsable(chain);
 * ```
 */
export function assertChainUsable(chain: DekChain): void {
  const { dek, kek, cmk } = chain;
  assertUsable(`DEK ${dek.id} (segment "${dek.segment}")`, dek.state);
  assertUsable(`KEK ${dek.keyring} v${dek.kekVersion}`, kek?.state);
  assertUsable(`CMK ${dek.keyring} v${kek?.cmkVersion}`, cmk?.state);
}
