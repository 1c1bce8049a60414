import { createHmac, randomBytes } from 'node:crypto';
import { kwpUnwrap, kwpWrap } from '../crypto/aes-kwp.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { SecretKey } from '../secret/secret-key.js';
import type { CmkReference, RootKey, RootKeyStats } from './root-key.js';

/**
 * A {@link RootKey} held in process memory, for unit tests of the hierarchy logic only. It gives
 * none of an HSM's guarantees; production and integration tests use {@link Pkcs11RootKey}.
 *
 * @example
 * ```ts
 * const rootKey = new SoftwareRootKey();
 * ```
 */
export class SoftwareRootKey implements RootKey {
  readonly description = 'software (tests only)';
  readonly #keys = new Map<string, SecretKey>();
  readonly #auditKey = SecretKey.takeOwnership(randomBytes(32));
  #calls = 0;

  get stats(): RootKeyStats {
    return { hsmCalls: this.#calls, reconnects: 0 };
  }

  #key(cmk: CmkReference): Buffer {
    const key = this.#keys.get(`${cmk.label}/${cmk.id}`);
    if (key === undefined) throw new KeystrataError('KEY_NOT_FOUND', `CMK "${cmk.label}" is not in the root.`);
    return key.exposeSecretBytes();
  }

  async createCmk(label: string, hexId?: string): Promise<CmkReference> {
    this.#calls++;
    const id = hexId ?? randomBytes(16).toString('hex');
    this.#keys.set(`${label}/${id}`, SecretKey.takeOwnership(randomBytes(32)));
    return { label, id };
  }
  async hasCmk(cmk: CmkReference): Promise<boolean> {
    return this.#keys.has(`${cmk.label}/${cmk.id}`);
  }
  async destroyCmk(cmk: CmkReference): Promise<void> {
    this.#calls++;
    this.#keys.get(`${cmk.label}/${cmk.id}`)?.destroy();
    this.#keys.delete(`${cmk.label}/${cmk.id}`);
  }
  async generateWrappedKek(cmk: CmkReference): Promise<Buffer> {
    this.#calls++;
    const kek = randomBytes(32);
    try {
      return kwpWrap(this.#key(cmk), kek);
    } finally {
      kek.fill(0);
    }
  }
  async unwrapKek(cmk: CmkReference, wrapped: Buffer): Promise<SecretKey> {
    this.#calls++;
    return kwpUnwrap(this.#key(cmk), wrapped, 32);
  }
  async rewrapKek(from: CmkReference, to: CmkReference, wrapped: Buffer): Promise<Buffer> {
    this.#calls++;
    const kek = kwpUnwrap(this.#key(from), wrapped, 32);
    try {
      return kwpWrap(this.#key(to), kek.exposeSecretBytes());
    } finally {
      kek.destroy();
    }
  }
  async auditMac(data: Buffer): Promise<Buffer> {
    this.#calls++;
    return createHmac('sha256', this.#auditKey.exposeSecretBytes()).update(data).digest();
  }
  async close(): Promise<void> {
    for (const key of this.#keys.values()) key.destroy();
    this.#keys.clear();
  }
}
