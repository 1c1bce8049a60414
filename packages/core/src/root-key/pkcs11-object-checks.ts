import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { ckrName } from './pkcs11-errors.js';

/** What a key object must look like before it is used. */
export interface StrengthRequirement {
  /** Also require CKA_COPYABLE and CKA_MODIFIABLE false (false only for objects made before they were set). */
  readonly locked: boolean;
  /** Also require CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE (generated inside the HSM). */
  readonly generatedInside: boolean;
}

/** Whether the module knows CKA_COPYABLE (PKCS#11 2.40); NSS softoken 3.87 does not (CKR_ATTRIBUTE_TYPE_INVALID). */
export function hasCopyableAttribute(pkcs11: P11.PKCS11, session: Buffer, handle: Buffer): boolean {
  try {
    pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_COPYABLE }]);
    return true;
  } catch (error) {
    if (ckrName(error) === 'CKR_ATTRIBUTE_TYPE_INVALID') return false;
    throw error;
  }
}

const BOOLEAN_ATTRIBUTES = [
  ['CKA_SENSITIVE', pkcs11js.CKA_SENSITIVE, true],
  ['CKA_EXTRACTABLE', pkcs11js.CKA_EXTRACTABLE, false],
  ['CKA_ALWAYS_SENSITIVE', pkcs11js.CKA_ALWAYS_SENSITIVE, true],
  ['CKA_NEVER_EXTRACTABLE', pkcs11js.CKA_NEVER_EXTRACTABLE, true],
  ['CKA_COPYABLE', pkcs11js.CKA_COPYABLE, false],
  ['CKA_MODIFIABLE', pkcs11js.CKA_MODIFIABLE, false],
] as const;

/**
 * The one handle of a key identity, refusing with `HSM_OBJECT_UNSAFE` when more than one object
 * holds it (a planted clone) or the object is weaker than required. `undefined` when none exists.
 *
 * @example
 * ```ts
 * const handle = checkedKeyObject(pkcs11, handles, 'CMK "keystrata-cmk-default-v1"', { locked: true, generatedInside: true });
 * ```
 */
export function checkedKeyObject(pkcs11: P11.PKCS11, session: Buffer, handles: readonly Buffer[], what: string, requirement: StrengthRequirement): Buffer | undefined {
  if (handles.length === 0) return undefined;
  if (handles.length > 1) {
    throw new KeystrataError('HSM_OBJECT_UNSAFE', `${handles.length} objects on the token carry the identity of ${what}; Keystrata creates exactly one, so one was planted or copied.`, {
      details: { objects: handles.length },
    });
  }
  const handle = handles[0]!;
  // A module without CKA_COPYABLE (NSS softoken) cannot mark a key uncopyable; there a copy onto the
  // same object loses CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE, which are still checked.
  const copyable = requirement.locked && hasCopyableAttribute(pkcs11, session, handle);
  const wanted = BOOLEAN_ATTRIBUTES.filter(
    ([name]) =>
      (requirement.locked || (name !== 'CKA_COPYABLE' && name !== 'CKA_MODIFIABLE')) &&
      (copyable || name !== 'CKA_COPYABLE') &&
      (requirement.generatedInside || (name !== 'CKA_ALWAYS_SENSITIVE' && name !== 'CKA_NEVER_EXTRACTABLE')),
  );
  const values = pkcs11.C_GetAttributeValue(
    session,
    handle,
    wanted.map(([, type]) => ({ type })),
  );
  const weak = wanted.filter(([, , expected], index) => (values[index]?.value?.[0] === 1) !== expected).map(([name, , expected]) => `${name} is ${String(!expected)}`);
  if (weak.length > 0) {
    throw new KeystrataError('HSM_OBJECT_UNSAFE', `The token object of ${what} is weaker than Keystrata creates it (${weak.join(', ')}).`, { details: { weak: weak.join(',') } });
  }
  return handle;
}

/**
 * Every object handle matching `template` (all of them, not only the first page).
 *
 * @example
 * ```ts
 * const all = findAllObjects(pkcs11, session, [{ type: pkcs11js.CKA_LABEL, value: 'x' }]);
 * ```
 */
export function findAllObjects(pkcs11: P11.PKCS11, session: Buffer, template: P11.Template): Buffer[] {
  pkcs11.C_FindObjectsInit(session, template);
  try {
    const found: Buffer[] = [];
    for (;;) {
      const page = pkcs11.C_FindObjects(session, 64);
      found.push(...page);
      if (page.length < 64) return found;
    }
  } finally {
    pkcs11.C_FindObjectsFinal(session);
  }
}
