import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { SecretKey } from '../secret/secret-key.js';
import { assertPinSource, type PinSource } from './pin-source.js';
import { acquirePkcs11Module, type Pkcs11Module } from './pkcs11-module.js';
import { Pkcs11SessionPool, type TokenSelector } from './pkcs11-session-pool.js';
import { auditKeyTemplate, cmkTemplate, kekGenerateTemplate, kekUnwrapTemplate, KWP } from './pkcs11-templates.js';
import type { CmkReference, RootKey, RootKeyStats } from './root-key.js';

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
  readonly #handles = new Map<string, Handle>();
  #calls = 0;
  #closed = false;

  private constructor(options: Pkcs11RootKeyOptions, module: Pkcs11Module) {
    this.#module = module;
    this.#auditLabel = options.auditKeyLabel ?? 'keystrata-audit';
    this.#pool = new Pkcs11SessionPool(module, options, options.pin, options.sessions ?? 4);
    this.#pool.onReconnect = () => this.#handles.clear();
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
      this.#pool.close();
      throw new KeystrataError('HSM_MODULE_INCOMPATIBLE', `The token does not support ${missing.join(', ')}.`, { details: { missing: missing.join(',') } });
    }
  }

  get stats(): RootKeyStats {
    return { hsmCalls: this.#calls, reconnects: this.#pool.reconnects };
  }

  #find(session: Handle, pkcs11: P11.PKCS11, template: P11.Template): Handle[] {
    pkcs11.C_FindObjectsInit(session, template);
    try {
      return pkcs11.C_FindObjects(session, 16);
    } finally {
      pkcs11.C_FindObjectsFinal(session);
    }
  }

  #cmkHandle(session: Handle, pkcs11: P11.PKCS11, cmk: CmkReference): Handle {
    const cacheKey = `${cmk.label}/${cmk.id}`;
    const cached = this.#handles.get(cacheKey);
    if (cached !== undefined) return cached;
    const [handle] = this.#find(session, pkcs11, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_LABEL, value: cmk.label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(cmk.id, 'hex') },
    ]);
    if (handle === undefined) {
      throw new KeystrataError('KEY_NOT_FOUND', `CMK "${cmk.label}" (id ${cmk.id}) is not on the token.`, { details: { label: cmk.label } });
    }
    this.#handles.set(cacheKey, handle);
    return handle;
  }

  async createCmk(label: string, hexId?: string): Promise<CmkReference> {
    this.#calls++;
    if (hexId !== undefined && !/^(?:[0-9a-f]{2}){1,64}$/i.test(hexId)) throw new KeystrataError('CONFIG_INVALID', 'A CMK id must be 1 to 64 bytes of hex.');
    const id = hexId === undefined ? randomBytes(16) : Buffer.from(hexId, 'hex');
    return this.#pool.run('generate a CMK', async (session, pkcs11) => {
      const handle = await pkcs11.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, cmkTemplate(label, id));
      const attributes = pkcs11.C_GetAttributeValue(session, handle, [
        { type: pkcs11js.CKA_ALWAYS_SENSITIVE }, { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
        { type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE },
      ]);
      const [alwaysSensitive, neverExtractable, sensitive, extractable] = attributes.map((a) => a.value[0] === 1);
      if (!alwaysSensitive || !neverExtractable || !sensitive || extractable) {
        pkcs11.C_DestroyObject(session, handle);
        throw new KeystrataError('HSM_MODULE_INCOMPATIBLE', 'The module did not keep the CMK sensitive and non-extractable; it was destroyed.');
      }
      this.#handles.set(`${label}/${id.toString('hex')}`, handle);
      return { label, id: id.toString('hex') };
    });
  }

  async hasCmk(cmk: CmkReference): Promise<boolean> {
    return this.#pool.run('find a CMK', (session, pkcs11) => {
      try {
        this.#cmkHandle(session, pkcs11, cmk);
        return true;
      } catch (error) {
        if (KeystrataError.isInstance(error, 'KEY_NOT_FOUND')) return false;
        throw error;
      }
    });
  }

  async destroyCmk(cmk: CmkReference): Promise<void> {
    this.#calls++;
    await this.#pool.run('destroy a CMK', (session, pkcs11) => {
      pkcs11.C_DestroyObject(session, this.#cmkHandle(session, pkcs11, cmk));
      this.#handles.delete(`${cmk.label}/${cmk.id}`);
    });
  }

  async generateWrappedKek(cmk: CmkReference): Promise<Buffer> {
    this.#calls++;
    return this.#pool.run('generate and wrap a KEK', async (session, pkcs11) => {
      const wrapping = this.#cmkHandle(session, pkcs11, cmk);
      const kek = await pkcs11.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, kekGenerateTemplate);
      try {
        return Buffer.from(await pkcs11.C_WrapKeyAsync(session, KWP, wrapping, kek, Buffer.alloc(64)));
      } finally {
        pkcs11.C_DestroyObject(session, kek);
      }
    });
  }

  async unwrapKek(cmk: CmkReference, wrapped: Buffer): Promise<SecretKey> {
    this.#calls++;
    return this.#pool.run('unwrap a KEK', async (session, pkcs11) => {
      const unwrapping = this.#cmkHandle(session, pkcs11, cmk);
      const kek = await pkcs11.C_UnwrapKeyAsync(session, KWP, unwrapping, wrapped, kekUnwrapTemplate(true));
      try {
        const [value] = pkcs11.C_GetAttributeValue(session, kek, [{ type: pkcs11js.CKA_VALUE }]);
        if (value?.value.length !== 32) {
          value?.value.fill(0);
          throw new KeystrataError('CIPHERTEXT_TAMPERED', 'The unwrapped KEK is not 32 bytes.');
        }
        return SecretKey.takeOwnership(value.value);
      } finally {
        pkcs11.C_DestroyObject(session, kek);
      }
    });
  }

  async rewrapKek(from: CmkReference, to: CmkReference, wrapped: Buffer): Promise<Buffer> {
    this.#calls++;
    return this.#pool.run('unwrap and rewrap a KEK', async (session, pkcs11) => {
      const source = this.#cmkHandle(session, pkcs11, from);
      const target = this.#cmkHandle(session, pkcs11, to);
      const kek = await pkcs11.C_UnwrapKeyAsync(session, KWP, source, wrapped, kekUnwrapTemplate(false));
      try {
        return Buffer.from(await pkcs11.C_WrapKeyAsync(session, KWP, target, kek, Buffer.alloc(64)));
      } finally {
        pkcs11.C_DestroyObject(session, kek);
      }
    });
  }

  async auditMac(data: Buffer): Promise<Buffer> {
    this.#calls++;
    return this.#pool.run('MAC an audit record', async (session, pkcs11) => {
      const label = { type: pkcs11js.CKA_LABEL, value: this.#auditLabel };
      let key = this.#handles.get(`audit/${this.#auditLabel}`);
      key ??= this.#find(session, pkcs11, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }, label])[0];
      key ??= pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, auditKeyTemplate(this.#auditLabel));
      this.#handles.set(`audit/${this.#auditLabel}`, key);
      pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_HMAC }, key);
      return Buffer.from(await pkcs11.C_SignAsync(session, data, Buffer.alloc(32)));
    });
  }

  /** Closes the sessions and releases the module; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pool.close();
    this.#handles.clear();
    this.#module.release();
  }
}
