import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import type { SecretKey } from '../secret/secret-key.js';
import { auditKeyTemplate } from './pkcs11-templates.js';

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
export function importedAuditKeyTemplate(label: string, id: Buffer, material: SecretKey, copyable = true): P11.Template {
  return [...auditKeyTemplate(label, id, copyable).filter((attribute) => attribute.type !== pkcs11js.CKA_VALUE_LEN), { type: pkcs11js.CKA_VALUE, value: material.exposeSecretBytes() }];
}
