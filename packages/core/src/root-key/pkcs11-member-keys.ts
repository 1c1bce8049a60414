import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import type { SecretKey } from '../secret/secret-key.js';
import type { Pkcs11Calls } from './pkcs11-calls.js';
import { auditKeyTemplate, KWP } from './pkcs11-templates.js';

/** A KEK from process memory as a session object that can only be wrapped (never a token object). */
function kekImportTemplate(value: Buffer): P11.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    { type: pkcs11js.CKA_VALUE, value },
  ];
}

/**
 * Wraps a KEK held in process memory under `wrapping` (RFC 5649, as a generated KEK is wrapped):
 * the KEK becomes a session object for the one C_WrapKey and is destroyed in `finally`.
 *
 * @example
 * ```ts
 * const copy = await wrapKekFromMemory(pkcs11, calls, session, cmkHandle, kek);
 * ```
 */
export async function wrapKekFromMemory(pkcs11: P11.PKCS11, calls: Pkcs11Calls, session: Buffer, wrapping: Buffer, kek: SecretKey): Promise<Buffer> {
  const handle = pkcs11.C_CreateObject(session, kekImportTemplate(kek.exposeSecretBytes()));
  try {
    return await calls.wrapKey(session, KWP, wrapping, handle);
  } finally {
    pkcs11.C_DestroyObject(session, handle);
  }
}

/**
 * The audit key made from material in process memory (an independent member receiving the
 * root's audit key): the generated key's template, with the value and without CKA_VALUE_LEN,
 * which C_CreateObject refuses for a generic secret.
 *
 * @example
 * ```ts
 * pkcs11.C_CreateObject(session, importedAuditKeyTemplate('keystrata-audit', id, material));
 * ```
 */
export function importedAuditKeyTemplate(label: string, id: Buffer, material: SecretKey): P11.Template {
  return [...auditKeyTemplate(label, id).filter((attribute) => attribute.type !== pkcs11js.CKA_VALUE_LEN), { type: pkcs11js.CKA_VALUE, value: material.exposeSecretBytes() }];
}
