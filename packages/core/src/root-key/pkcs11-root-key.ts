import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { SecretKey } from '../secret/secret-key.js';
import { acquirePkcs11Module, type Pkcs11Module } from './pkcs11-module.js';
import { Pkcs11SessionPool } from './pkcs11-session-pool.js';
import { auditKeyTemplate, cmkTemplate, kekGenerateTemplate, kekImportTemplate, kekUnwrapTemplate } from './pkcs11-templates.js';
import { pkcs11Calls, type Pkcs11Calls } from './pkcs11-calls.js';
import { selectAuditKey } from './pkcs11-audit-key.js';
import { assertLoggedIn } from './pkcs11-errors.js';
import { checkedKeyObject, findAllObjects, hasCopyableAttribute } from './pkcs11-object-checks.js';
import { AUDIT_KEY_CHECK_STRING, type AuditKeyIdentity, type CmkReference, type RootKey, type RootKeyStats } from './root-key.js';
import { chooseWrapMechanism, type WrapMechanisms } from './pkcs11-wrap-mechanism.js';
import { encodeWrappedKek, parseWrappedKek, wrapMechanismName } from './wrapped-kek-format.js';
import { REQUIRED_MECHANISMS, validatePkcs11RootKeyOptions, type Pkcs11RootKeyOptions } from './pkcs11-root-key-options.js';
import { importedAuditKeyTemplate } from './pkcs11-member-keys.js';

export type { Pkcs11RootKeyOptions } from './pkcs11-root-key-options.js';

type Handle = P11.Handle;

/**
 * The CMK root in a PKCS#11 HSM (SoftHSM2, CloudHSM, Luna, YubiHSM…). CMK versions are
 * non-extractable token objects; after generating one it reads back CKA_ALWAYS_SENSITIVE and
 * CKA_NEVER_EXTRACTABLE and refuses a module that does not honour them.
 *
 * @example
 * ```ts
 * const rootKey = await Pkcs11RootKey.open({
 *   module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'keystrata', pin: { env: 'KEYSTRATA_HSM_PIN' },
 * });
 * ```
 */
export class Pkcs11RootKey implements RootKey {
  readonly description: string;
  readonly #module: Pkcs11Module;
  readonly #pool: Pkcs11SessionPool;
  readonly #auditLabel: string;
  readonly #acceptImportedAuditKey: boolean;
  readonly #handles = new Map<string, Handle>();
  /** Audit key handles whose check value matched a recorded identity (`id/checkValue`). */
  readonly #checkedAudit = new Map<string, Handle>();
  readonly #hsm: Pkcs11Calls;
  /** The wrap mechanisms the token lists, and the one new wrapped KEKs use; set when the root key opens. */
  #wrap: WrapMechanisms = { supported: new Set(), write: pkcs11js.CKM_AES_KEY_WRAP };
  /** Whether the module knows CKA_COPYABLE; probed once, before the first CMK or audit key is made. */
  #copyable: boolean | undefined;
  #calls = 0;
  #closed = false;

  private constructor(options: Pkcs11RootKeyOptions, module: Pkcs11Module) {
    this.#module = module;
    this.#hsm = pkcs11Calls(module.pkcs11, options.threadPool === true);
    this.#auditLabel = options.auditKeyLabel ?? 'keystrata-audit';
    this.#acceptImportedAuditKey = options.acceptImportedAuditKey === true;
    this.#pool = new Pkcs11SessionPool(module, options, options.pin, options.sessions ?? 4);
    this.#pool.onReconnect = () => {
      this.#handles.clear();
      this.#checkedAudit.clear();
    };
    const token = options.tokenLabel ?? options.slotId ?? options.slotIndex;
    this.description = `pkcs11 ${options.tokenLabel !== undefined ? 'token' : 'slot'} "${String(token)}"`;
  }

  /** Validates the options, loads the module, opens the session pool and logs in. */
  static async open(options: Pkcs11RootKeyOptions): Promise<Pkcs11RootKey> {
    validatePkcs11RootKeyOptions(options);
    const module = acquirePkcs11Module(options.module, options.moduleEnvironment ?? {}, options.libraryParameters);
    const rootKey = new Pkcs11RootKey(options, module);
    try {
      await rootKey.#pool.open();
      rootKey.#checkMechanisms();
    } catch (error) {
      module.release();
      throw error;
    }
    return rootKey;
  }

  /** Refuses, up front, a token that lacks a mechanism the hierarchy needs. */
  #checkMechanisms(): void {
    const slot = this.#pool.slot!;
    const supported = new Set(this.#module.pkcs11.C_GetMechanismList(slot));
    const missing = REQUIRED_MECHANISMS.filter(([, mechanism]) => !supported.has(mechanism)).map(([name]) => name);
    const wrap = chooseWrapMechanism(this.#module.pkcs11, slot, supported);
    if (wrap === undefined) missing.push('CKM_AES_KEY_WRAP or CKM_AES_KEY_WRAP_PAD (for wrapping and unwrapping)');
    if (missing.length > 0 || wrap === undefined) {
      void this.#pool.close();
      throw new KeystrataError('HSM_MODULE_INCOMPATIBLE', `The token does not support ${missing.join(', ')}.`, { details: { missing: missing.join(',') } });
    }
    this.#wrap = wrap;
  }

  /** The mechanism new wrapped KEKs are written with (`CKM_AES_KEY_WRAP`, 0x2109, where the token lists it). */
  get wrapMechanism(): number {
    return this.#wrap.write;
  }

  /** The mechanism a stored wrapped KEK names, refused when this token does not list it. */
  #unwrapMechanism(wrapped: Buffer): { mechanism: P11.Mechanism; body: Buffer } {
    // Precondition: a wrapped KEK has a length its format allows before it reaches the HSM.
    const { mechanism, body } = parseWrappedKek(wrapped);
    if (!this.#wrap.supported.has(mechanism)) {
      // This token cannot have written a blob naming a mechanism it does not offer: a damaged, edited or foreign wrapped key,
      // refused before the HSM like any blob its format does not explain (audited `unwrap-failed` by the resolver).
      // `details.offered: false` lets a root of several members move the unwrap to a member that offers it.
      throw new KeystrataError(
        'CIPHERTEXT_TAMPERED',
        `The wrapped KEK names ${wrapMechanismName(mechanism)}, which this token does not offer, so it cannot have written it: its key-store entry was edited, replaced or written elsewhere; it was not sent to the HSM.`,
        {
          details: { length: wrapped.length, mechanism: wrapMechanismName(mechanism), offered: false },
          hint: 'The key store holds a damaged, edited or foreign wrapped key: restore it from a trusted backup and check the audit trail (docs/hsm-portability.md). Nothing was decrypted with it.',
        },
      );
    }
    return { mechanism: { mechanism }, body };
  }

  /** Whether templates may carry CKA_COPYABLE: probed once on a throwaway session key. */
  async #copyableSupported(session: Handle, pkcs11: P11.PKCS11): Promise<boolean> {
    if (this.#copyable !== undefined) return this.#copyable;
    const probe = await this.#hsm.generateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, kekGenerateTemplate);
    try {
      this.#copyable = hasCopyableAttribute(pkcs11, session, probe);
    } finally {
      pkcs11.C_DestroyObject(session, probe);
    }
    return this.#copyable;
  }

  get stats(): RootKeyStats {
    return { hsmCalls: this.#calls, reconnects: this.#pool.reconnects };
  }

  /** Private objects matching `template`; none found while logged out is a lost login, not "missing". */
  #findPrivate(session: Handle, pkcs11: P11.PKCS11, template: P11.Template): Handle[] {
    const found = findAllObjects(pkcs11, session, template);
    if (found.length === 0) assertLoggedIn(pkcs11, session);
    return found;
  }

  /** Every object with the CMK's label and id (a clone included). */
  #cmkObjects(session: Handle, pkcs11: P11.PKCS11, cmk: CmkReference): Handle[] {
    return this.#findPrivate(session, pkcs11, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_LABEL, value: cmk.label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(cmk.id, 'hex') },
    ]);
  }

  /**
   * The CMK's one handle, refused (`HSM_OBJECT_UNSAFE`) when a second object holds its identity or
   * it is weaker than created. `legacy` accepts a copyable CMK made before CKA_COPYABLE was set, only
   * as the source of a CMK rotation, so such a store can move to a new CMK version.
   */
  #cmkHandle(session: Handle, pkcs11: P11.PKCS11, cmk: CmkReference, legacy = false): Handle {
    const cacheKey = `${cmk.label}/${cmk.id}`;
    const cached = this.#handles.get(cacheKey);
    if (cached !== undefined) return cached;
    const objects = this.#cmkObjects(session, pkcs11, cmk);
    const what = `CMK "${cmk.label}" (id ${cmk.id})`;
    let handle: Handle | undefined;
    try {
      handle = checkedKeyObject(pkcs11, session, objects, what, { locked: true, generatedInside: true });
    } catch (error) {
      if (!legacy || objects.length !== 1) throw error;
      handle = checkedKeyObject(pkcs11, session, objects, what, { locked: false, generatedInside: true });
      return handle!;
    }
    if (handle === undefined) {
      throw new KeystrataError('KEY_NOT_FOUND', `${what} is not on the token.`, {
        details: { label: cmk.label },
        hint: 'The HSM token lacks this CMK: check hsm.tokenLabel / slot (another token?), or the CMK was destroyed in the HSM, which no key-store backup can undo.',
      });
    }
    this.#handles.set(cacheKey, handle);
    return handle;
  }

  async createCmk(label: string, hexId?: string): Promise<CmkReference> {
    this.#calls++;
    if (hexId !== undefined && !/^(?:[0-9a-f]{2}){1,64}$/i.test(hexId)) throw new KeystrataError('CONFIG_INVALID', 'A CMK id must be 1 to 64 bytes of hex.');
    const id = hexId === undefined ? randomBytes(16) : Buffer.from(hexId, 'hex');
    return this.#pool.run('generate a CMK', async (session, pkcs11) => {
      const copyable = await this.#copyableSupported(session, pkcs11);
      const handle = await this.#hsm.generateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, cmkTemplate(label, id, copyable));
      try {
        checkedKeyObject(pkcs11, session, [handle], `CMK "${label}"`, { locked: true, generatedInside: true });
      } catch (error) {
        pkcs11.C_DestroyObject(session, handle);
        throw new KeystrataError('HSM_MODULE_INCOMPATIBLE', 'The module did not keep the CMK sensitive, non-extractable, non-copyable and non-modifiable; it was destroyed.', { cause: error });
      }
      this.#handles.set(`${label}/${id.toString('hex')}`, handle);
      return { label, id: id.toString('hex') };
    });
  }

  /** Whether any object with the CMK's label and id is on the token (strong or not). */
  async hasCmk(cmk: CmkReference): Promise<boolean> {
    return this.#pool.run('find a CMK', (session, pkcs11) => this.#cmkObjects(session, pkcs11, cmk).length > 0);
  }

  /** Every secret-key object labelled `label`, whatever its CKA_ID (none found while logged out is a lost login). */
  async findCmks(label: string): Promise<CmkReference[]> {
    return this.#pool.run('find CMKs by label', (session, pkcs11) => {
      const found = this.#findPrivate(session, pkcs11, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_LABEL, value: label },
      ]);
      return found.map((handle) => {
        const [attribute] = pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_ID }]);
        const id = Buffer.isBuffer(attribute?.value) ? attribute.value.toString('hex') : '';
        return { label, id };
      });
    });
  }

  /** Destroys every object with the CMK's label and id, then checks that none is left. */
  async destroyCmk(cmk: CmkReference): Promise<void> {
    this.#calls++;
    await this.#pool.run('destroy a CMK', (session, pkcs11) => {
      this.#handles.delete(`${cmk.label}/${cmk.id}`);
      for (const handle of this.#cmkObjects(session, pkcs11, cmk)) pkcs11.C_DestroyObject(session, handle);
      const left = this.#cmkObjects(session, pkcs11, cmk).length;
      if (left > 0) {
        throw new KeystrataError('HSM_OPERATION_FAILED', `${left} object(s) with the identity of CMK "${cmk.label}" are still on the token after destroying; remove them with the token's tools.`, {
          details: { left },
        });
      }
    });
  }

  async generateWrappedKek(cmk: CmkReference): Promise<Buffer> {
    this.#calls++;
    return this.#pool.run('generate and wrap a KEK', async (session, pkcs11) => {
      const wrapping = this.#cmkHandle(session, pkcs11, cmk);
      const kek = await this.#hsm.generateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, kekGenerateTemplate);
      try {
        return encodeWrappedKek(this.#wrap.write, await this.#hsm.wrapKey(session, { mechanism: this.#wrap.write }, wrapping, kek));
      } finally {
        pkcs11.C_DestroyObject(session, kek);
      }
    });
  }

  async unwrapKek(cmk: CmkReference, wrapped: Buffer): Promise<SecretKey> {
    const { mechanism, body } = this.#unwrapMechanism(wrapped);
    this.#calls++;
    return this.#pool.run('unwrap a KEK', async (session, pkcs11) => {
      const unwrapping = this.#cmkHandle(session, pkcs11, cmk);
      const kek = await this.#hsm.unwrapKey(session, mechanism, unwrapping, body, kekUnwrapTemplate(true));
      try {
        const [value] = pkcs11.C_GetAttributeValue(session, kek, [{ type: pkcs11js.CKA_VALUE }]);
        if (value?.value.length !== 32) {
          value?.value.fill(0);
          throw new KeystrataError('CIPHERTEXT_TAMPERED', 'The unwrapped KEK is not 32 bytes.', {
            hint: 'The key store holds a damaged, edited or foreign wrapped key (this is not about a stored value): restore the key store from a trusted backup and check the audit trail. Nothing was decrypted with it.',
          });
        }
        return SecretKey.takeOwnership(value.value);
      } finally {
        pkcs11.C_DestroyObject(session, kek);
      }
    });
  }

  /** Unwraps under `from` with the blob's own mechanism and wraps under `to` in the current format (`CKM_AES_KEY_WRAP` where listed). */
  async rewrapKek(from: CmkReference, to: CmkReference, wrapped: Buffer): Promise<Buffer> {
    const { mechanism, body } = this.#unwrapMechanism(wrapped);
    this.#calls++;
    return this.#pool.run('unwrap and rewrap a KEK', async (session, pkcs11) => {
      const source = this.#cmkHandle(session, pkcs11, from, true);
      const target = this.#cmkHandle(session, pkcs11, to);
      const kek = await this.#hsm.unwrapKey(session, mechanism, source, body, kekUnwrapTemplate(false));
      try {
        return encodeWrappedKek(this.#wrap.write, await this.#hsm.wrapKey(session, { mechanism: this.#wrap.write }, target, kek));
      } finally {
        pkcs11.C_DestroyObject(session, kek);
      }
    });
  }

  /**
   * Wraps KEK bytes held in process (as the cache holds them) under `cmk`, in the current format:
   * for copying KEKs to another root. The bytes enter the HSM as a sensitive session object that is
   * destroyed after wrapping; `kek` stays the caller's.
   */
  async wrapKekBytes(cmk: CmkReference, kek: SecretKey): Promise<Buffer> {
    // Precondition: only a 32-byte KEK is wrapped by wrapKekBytes.
    if (kek.length !== 32) throw new KeystrataError('CONFIG_INVALID', `A KEK is 32 bytes (got ${kek.length}); nothing was wrapped.`);
    this.#calls++;
    return this.#pool.run('import and wrap a KEK', async (session, pkcs11) => {
      const wrapping = this.#cmkHandle(session, pkcs11, cmk);
      const imported = pkcs11.C_CreateObject(session, kekImportTemplate(kek.exposeSecretBytes()));
      try {
        return encodeWrappedKek(this.#wrap.write, await this.#hsm.wrapKey(session, { mechanism: this.#wrap.write }, wrapping, imported));
      } finally {
        pkcs11.C_DestroyObject(session, imported);
      }
    });
  }

  /** Every object labelled as the audit key. */
  #auditObjects(session: Handle, pkcs11: P11.PKCS11): Handle[] {
    return this.#findPrivate(session, pkcs11, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_LABEL, value: this.#auditLabel },
    ]);
  }

  /** The audit key's handle (see {@link selectAuditKey}), cached per key id. */
  #auditHandle(session: Handle, pkcs11: P11.PKCS11, keyId?: string): Handle | undefined {
    const cacheKey = `audit/${this.#auditLabel}/${keyId ?? '*'}`;
    const cached = this.#handles.get(cacheKey);
    if (cached !== undefined) return cached;
    const handle = selectAuditKey(pkcs11, session, this.#auditObjects(session, pkcs11), keyId, `audit key "${this.#auditLabel}"`, !this.#acceptImportedAuditKey);
    if (handle !== undefined) this.#handles.set(cacheKey, handle);
    return handle;
  }

  async #sign(session: Handle, pkcs11: P11.PKCS11, key: Handle, data: Buffer): Promise<Buffer> {
    pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_HMAC }, key);
    return this.#hsm.sign(session, data);
  }

  async #identity(session: Handle, pkcs11: P11.PKCS11, key: Handle): Promise<AuditKeyIdentity> {
    const [id] = pkcs11.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_ID }]);
    const check = await this.#sign(session, pkcs11, key, Buffer.from(AUDIT_KEY_CHECK_STRING, 'utf8'));
    return { id: id?.value?.toString('hex') ?? '', checkValue: check.subarray(0, 16).toString('hex') };
  }

  async auditMac(data: Buffer, expected?: AuditKeyIdentity): Promise<Buffer> {
    this.#calls++;
    return this.#pool.run('MAC an audit record', async (session, pkcs11) => {
      const key = this.#auditHandle(session, pkcs11, expected?.id);
      if (key === undefined) {
        const which = expected === undefined ? '' : ` with id ${expected.id}`;
        throw new KeystrataError('AUDIT_KEY_MISMATCH', `The token has no audit key "${this.#auditLabel}"${which}; it is created once, when the audit trail starts, and never silently.`);
      }
      // Each time the handle is found again (after a reconnect), its check value is compared once.
      if (expected !== undefined && this.#checkedAudit.get(`${expected.id}/${expected.checkValue}`) !== key) {
        const { checkValue } = await this.#identity(session, pkcs11, key);
        if (checkValue !== expected.checkValue) {
          throw new KeystrataError('AUDIT_KEY_MISMATCH', `The audit key "${this.#auditLabel}" with id ${expected.id} is not the recorded key (its key check value differs): it was replaced.`);
        }
        this.#checkedAudit.set(`${expected.id}/${expected.checkValue}`, key);
      }
      return this.#sign(session, pkcs11, key, data);
    });
  }

  async auditKeyIdentity(keyId?: string): Promise<AuditKeyIdentity | undefined> {
    return this.#pool.run('identify the audit key', async (session, pkcs11) => {
      const key = this.#auditHandle(session, pkcs11, keyId);
      return key === undefined ? undefined : this.#identity(session, pkcs11, key);
    });
  }

  async createAuditKey(): Promise<AuditKeyIdentity> {
    this.#calls++;
    return this.#pool.run('create the audit key', async (session, pkcs11) => {
      if (this.#auditObjects(session, pkcs11).length > 0) {
        throw new KeystrataError('AUDIT_KEY_MISMATCH', `The token already has an audit key "${this.#auditLabel}"; it is not replaced.`);
      }
      const id = randomBytes(16);
      const copyable = await this.#copyableSupported(session, pkcs11);
      const key = pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, auditKeyTemplate(this.#auditLabel, id, copyable));
      this.#handles.set(`audit/${this.#auditLabel}/${id.toString('hex')}`, key);
      return this.#identity(session, pkcs11, key);
    });
  }

  /** Creates the audit key from `material` with CKA_ID `id` (an independent member); refuses when one exists. */
  async importAuditKey(id: string, material: SecretKey): Promise<AuditKeyIdentity> {
    this.#calls++;
    return this.#pool.run('import the audit key', async (session, pkcs11) => {
      if (this.#auditObjects(session, pkcs11).length > 0) {
        throw new KeystrataError('AUDIT_KEY_MISMATCH', `The token already has an audit key "${this.#auditLabel}"; it is not replaced.`);
      }
      const key = pkcs11.C_CreateObject(session, importedAuditKeyTemplate(this.#auditLabel, Buffer.from(id, 'hex'), material, await this.#copyableSupported(session, pkcs11)));
      this.#handles.set(`audit/${this.#auditLabel}/${id}`, key);
      return this.#identity(session, pkcs11, key);
    });
  }

  /** Closes the sessions and releases the module; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.close();
    this.#handles.clear();
    this.#module.release();
  }
}
