import type * as P11 from 'pkcs11js';

/**
 * The PKCS#11 calls that take time (generate, wrap, unwrap, sign), made either on the JavaScript
 * thread (default) or on libuv's thread pool. On the JavaScript thread every call is atomic with
 * respect to any other PKCS#11 user in the process: SoftHSM2 crashes (use after free) when one
 * caller closes sessions or finalises the module while another caller's call runs on a worker
 * thread. The thread pool keeps the event loop free on slow network HSMs, at that risk.
 */
export interface Pkcs11Calls {
  generateKey(session: Buffer, mechanism: P11.Mechanism, template: P11.Template): Promise<Buffer>;
  wrapKey(session: Buffer, mechanism: P11.Mechanism, wrapping: Buffer, key: Buffer): Promise<Buffer>;
  unwrapKey(session: Buffer, mechanism: P11.Mechanism, unwrapping: Buffer, wrapped: Buffer, template: P11.Template): Promise<Buffer>;
  sign(session: Buffer, data: Buffer): Promise<Buffer>;
}

/**
 * The call style for a module handle.
 *
 * @example
 * ```ts
 * const calls = pkcs11Calls(module.pkcs11, false);
 * const handle = await calls.generateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, template);
 * ```
 */
export function pkcs11Calls(pkcs11: P11.PKCS11, threadPool: boolean): Pkcs11Calls {
  if (threadPool) {
    return {
      generateKey: (session, mechanism, template) => pkcs11.C_GenerateKeyAsync(session, mechanism, template),
      wrapKey: async (session, mechanism, wrapping, key) => Buffer.from(await pkcs11.C_WrapKeyAsync(session, mechanism, wrapping, key, Buffer.alloc(64))),
      unwrapKey: (session, mechanism, unwrapping, wrapped, template) => pkcs11.C_UnwrapKeyAsync(session, mechanism, unwrapping, wrapped, template),
      sign: async (session, data) => Buffer.from(await pkcs11.C_SignAsync(session, data, Buffer.alloc(32))),
    };
  }
  return {
    generateKey: async (session, mechanism, template) => pkcs11.C_GenerateKey(session, mechanism, template),
    wrapKey: async (session, mechanism, wrapping, key) => Buffer.from(pkcs11.C_WrapKey(session, mechanism, wrapping, key, Buffer.alloc(64))),
    unwrapKey: async (session, mechanism, unwrapping, wrapped, template) => pkcs11.C_UnwrapKey(session, mechanism, unwrapping, wrapped, template),
    sign: async (session, data) => Buffer.from(pkcs11.C_Sign(session, data, Buffer.alloc(32))),
  };
}
