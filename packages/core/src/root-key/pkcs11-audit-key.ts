import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import { checkedKeyObject } from './pkcs11-object-checks.js';

/**
 * Which of the objects labelled as the audit key to use, or undefined when none fits: the one with
 * CKA_ID `keyId` when given (the one a trail recorded; two objects with that id are refused as a
 * planted clone), otherwise the one with the smallest id (two processes that started trails on a
 * fresh token at once each made one). The chosen object must be as strong as created.
 *
 * @example
 * ```ts
 * const key = selectAuditKey(pkcs11, session, objects, recorded?.id, 'audit key "keystrata-audit"');
 * ```
 */
export function selectAuditKey(pkcs11: P11.PKCS11, session: Buffer, objects: readonly Buffer[], keyId: string | undefined, what: string, generatedInside = true): Buffer | undefined {
  const withIds = objects.map((handle) => {
    const [id] = pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_ID }]);
    return { handle, id: id?.value?.toString('hex') ?? '' };
  });
  const wanted = keyId ?? withIds.map((o) => o.id).sort()[0];
  const candidates = withIds.filter((o) => o.id === wanted).map((o) => o.handle);
  return checkedKeyObject(pkcs11, session, candidates, what, { locked: false, generatedInside });
}
