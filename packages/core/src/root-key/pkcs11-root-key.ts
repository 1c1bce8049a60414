import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { SecretKey } from '../secret/secret-key.js';
import { assertPinSource, type PinSource } from './pin-source.js';
import { acquirePkcs11Module, type Pkcs11Module } from './pkcs11-module.js';
import { Pkcs11SessionPool, type TokenSelector } from './pkcs11-session-pool.js';
import { auditKeyTemplate, cmkTemplate, kekGenerateTemplate, kekUnwrapTemplate, KWP } from './pkcs11-templates.js';
import { pkcs11Calls, type Pkcs11Calls } from './pkcs11-calls.js';
import { selectAuditKey } from './pkcs11-audit-key.js';
import { assertLoggedIn } from './pkcs11-errors.js';
import { checkedKeyObject, findAllObjects } from './pkcs11-object-checks.js';
import { AUDIT_KEY_CHECK_STRING, type AuditKeyIdentity, type CmkReference, type RootKey, type RootKeyStats } from './root-key.js';
import { assertWrappedKekLength } from './wrapped-kek-length.js';
import { importedAuditKeyTemplate, wrapKekFromMemory } from './pkcs11-member-keys.js';

/** Options for {@link Pkcs11RootKey.open}: any PKCS#11 module works by configuration alone. */
export interface Pkcs11RootKeyOptions extends TokenSelector {
  /** Path of the PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  readonly module: string;
  /** Where the user PIN comes from; it is never logged or kept. */
  readonly pin: PinSource;
  /** Logged-in sessions kept open (default 4). */
  readonly sessions?: number;
  /** Label of the audit MAC key (default `keystrata-audit`). */
  readonly auditKeyLabel?: string;
  /** Environment set before the module initialises, e.g. `{ SOFTHSM2_CONF: '…' }`. */
  readonly moduleEnvironment?: Readonly<Record<string, string>>;
  /**
   * Run the slow calls (generate, wrap, unwrap, sign) on libuv's thread pool instead of the
   * JavaScript thread (default false). Only for slow network HSMs, and only when nothing else in
   * the process closes sessions or finalises the module: SoftHSM2 crashes when that happens while a
   * call runs on another thread.
   */
  readonly threadPool?: boolean;
  /**
   * Accept an audit key created from material (not generated inside the token): set by
   * {@link MemberRootKey} for independent members, which all receive the same audit key.
   */
  readonly acceptImportedAuditKey?: boolean;
}

type Handle = P11.Handle;

/** Mechanisms the hierarchy uses: CMK/KEK generation, RFC 5649 wrapping, the audit MAC. */
const REQUIRED_MECHANISMS: ReadonlyArray<readonly [string, number]> = [
  ['CKM_AES_KEY_GEN', pkcs11js.CKM_AES_KEY_GEN],
  ['CKM_AES_KEY_WRAP_PAD', pkcs11js.CKM_AES_KEY_WRAP_PAD],
  ['CKM_GENERIC_SECRET_KEY_GEN', pkcs11js.CKM_GENERIC_SECRET_KEY_GEN],
  ['CKM_SHA256_HMAC', pkcs11js.CKM_SHA256_HMAC],
];

function validate(options: Pkcs11RootKeyOptions): void {
  if (typeof options?.module !== 'string' || options.module === '') {
    throw new KeystrataError('CONFIG_INVALID', 'module must be the path of a PKCS#11 library.');
  }
  const selectors = [options.tokenLabel, options.slotId, options.slotIndex].filter((s) => s !== undefined);
  if (selectors.length !== 1) throw new KeystrataError('CONFIG_INVALID', 'Give exactly one of tokenLabel, slotId or slotIndex.');
  assertPinSource(options.pin);
  if (options.sessions !== undefined && (!Number.isInteger(options.sessions) || options.sessions < 1 || options.sessions > 64)) {
    throw new KeystrataError('CONFIG_INVALID', 'sessions must be an integer from 1 to 64.');
  }
  if (options.threadPool !== undefined && typeof options.threadPool !== 'boolean') {
    throw new KeystrataError('CONFIG_INVALID', 'threadPool must be true or false.');
  }
}

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
    validate(options);
    const module = acquirePkcs11Module(options.module, options.moduleEnvironment ?? {});
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
    if (missing.length > 0) {
      void this.#pool.close();
      throw new KeystrataError('HSM_MODULE_INCOMPATIBLE', `The token does not support ${missing.join(', ')}.`, { details: { missing: missing.join(',') } });
    }
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
      const handle = await this.#hsm.generateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, cmkTemplate(label, id));
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
        return await this.#hsm.wrapKey(session, KWP, wrapping, kek);
      } finally {
        pkcs11.C_DestroyObject(session, kek);
      }
    });
  }

  async unwrapKek(cmk: CmkReference, wrapped: Buffer): Promise<SecretKey> {
    assertWrappedKekLength(wrapped);
    this.#calls++;
    return this.#pool.run('unwrap a KEK', async (session, pkcs11) => {
      const unwrapping = this.#cmkHandle(session, pkcs11, cmk);
      const kek = await this.#hsm.unwrapKey(session, KWP, unwrapping, wrapped, kekUnwrapTemplate(true));
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

  async rewrapKek(from: CmkReference, to: CmkReference, wrapped: Buffer): Promise<Buffer> {
    assertWrappedKekLength(wrapped);
    this.#calls++;
    return this.#pool.run('unwrap and rewrap a KEK', async (session, pkcs11) => {
      const source = this.#cmkHandle(session, pkcs11, from, true);
      const target = this.#cmkHandle(session, pkcs11, to);
      const kek = await this.#hsm.unwrapKey(session, KWP, source, wrapped, kekUnwrapTemplate(false));
      try {
        return await this.#hsm.wrapKey(session, KWP, target, kek);
      } finally {
        pkcs11.C_DestroyObject(session, kek);
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
      const key = pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, auditKeyTemplate(this.#auditLabel, id));
      this.#handles.set(`audit/${this.#auditLabel}/${id.toString('hex')}`, key);
      return this.#identity(session, pkcs11, key);
    });
  }

  /** Wraps a KEK from process memory under `cmk` (a copy for an independent member); see {@link wrapKekFromMemory}. */
  async wrapKekBytes(cmk: CmkReference, kek: SecretKey): Promise<Buffer> {
    this.#calls++;
    return this.#pool.run('wrap a KEK copy', (session, pkcs11) => wrapKekFromMemory(pkcs11, this.#hsm, session, this.#cmkHandle(session, pkcs11, cmk), kek));
  }

  /** Creates the audit key from `material` with CKA_ID `id` (an independent member); refuses when one exists. */
  async importAuditKey(id: string, material: SecretKey): Promise<AuditKeyIdentity> {
    this.#calls++;
    return this.#pool.run('import the audit key', async (session, pkcs11) => {
      if (this.#auditObjects(session, pkcs11).length > 0) {
        throw new KeystrataError('AUDIT_KEY_MISMATCH', `The token already has an audit key "${this.#auditLabel}"; it is not replaced.`);
      }
      const key = pkcs11.C_CreateObject(session, importedAuditKeyTemplate(this.#auditLabel, Buffer.from(id, 'hex'), material));
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
