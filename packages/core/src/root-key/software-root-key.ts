import { createHmac, randomBytes } from 'node:crypto';
import { kwpUnwrap, kwpWrap } from '../crypto/aes-kwp.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { SecretKey } from '../secret/secret-key.js';
import { AUDIT_KEY_CHECK_STRING, type AuditKeyIdentity, type CmkReference, type RootKey, type RootKeyStats } from './root-key.js';
import { assertWrappedKekLength } from './wrapped-kek-length.js';

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
  #auditKey: { readonly id: string; readonly key: SecretKey } | undefined;
  #calls = 0;

  get stats(): RootKeyStats {
    return { hsmCalls: this.#calls, reconnects: 0 };
  }

  #key(cmk: CmkReference): Buffer {
    const key = this.#keys.get(`${cmk.label}/${cmk.id}`);
    if (key === undefined) throw new KeystrataError('KEY_NOT_FOUND', `CMK "${cmk.label}" is not in the root.`, { hint: 'The root key lacks this CMK: another root, or the CMK was destroyed.' });
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
  async findCmks(label: string): Promise<CmkReference[]> {
    return [...this.#keys.keys()].filter((key) => key.slice(0, key.lastIndexOf('/')) === label).map((key) => ({ label, id: key.slice(key.lastIndexOf('/') + 1) }));
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
    assertWrappedKekLength(wrapped);
    this.#calls++;
    return kwpUnwrap(this.#key(cmk), wrapped, 32);
  }
  async rewrapKek(from: CmkReference, to: CmkReference, wrapped: Buffer): Promise<Buffer> {
    assertWrappedKekLength(wrapped);
    this.#calls++;
    const kek = kwpUnwrap(this.#key(from), wrapped, 32);
    try {
      return kwpWrap(this.#key(to), kek.exposeSecretBytes());
    } finally {
      kek.destroy();
    }
  }
  async auditMac(data: Buffer, key?: AuditKeyIdentity): Promise<Buffer> {
    this.#calls++;
    const current = await this.auditKeyIdentity(key?.id);
    if (this.#auditKey === undefined || current === undefined || (key !== undefined && key.checkValue !== current.checkValue)) {
      throw new KeystrataError('AUDIT_KEY_MISMATCH', 'The root has no such audit key; it is created once, when the audit trail starts.');
    }
    return createHmac('sha256', this.#auditKey.key.exposeSecretBytes()).update(data).digest();
  }
  async auditKeyIdentity(keyId?: string): Promise<AuditKeyIdentity | undefined> {
    if (this.#auditKey === undefined || (keyId !== undefined && keyId !== this.#auditKey.id)) return undefined;
    const check = createHmac('sha256', this.#auditKey.key.exposeSecretBytes()).update(AUDIT_KEY_CHECK_STRING).digest();
    return { id: this.#auditKey.id, checkValue: check.subarray(0, 16).toString('hex') };
  }
  async createAuditKey(): Promise<AuditKeyIdentity> {
    this.#calls++;
    if (this.#auditKey !== undefined) throw new KeystrataError('AUDIT_KEY_MISMATCH', 'The root already has an audit key; it is not replaced.');
    this.#auditKey = { id: randomBytes(16).toString('hex'), key: SecretKey.takeOwnership(randomBytes(32)) };
    return (await this.auditKeyIdentity())!;
  }
  async wrapKekBytes(cmk: CmkReference, kek: SecretKey): Promise<Buffer> {
    this.#calls++;
    return kwpWrap(this.#key(cmk), kek.exposeSecretBytes());
  }
  async importAuditKey(id: string, material: SecretKey): Promise<AuditKeyIdentity> {
    this.#calls++;
    if (this.#auditKey !== undefined) throw new KeystrataError('AUDIT_KEY_MISMATCH', 'The root already has an audit key; it is not replaced.');
    this.#auditKey = { id, key: SecretKey.takeOwnership(Buffer.from(material.exposeSecretBytes())) };
    return (await this.auditKeyIdentity())!;
  }
  async close(): Promise<void> {
    for (const key of this.#keys.values()) key.destroy();
    this.#auditKey?.key.destroy();
    this.#auditKey = undefined;
    this.#keys.clear();
  }
}
