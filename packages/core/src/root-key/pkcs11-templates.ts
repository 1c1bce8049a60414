import pkcs11js from 'pkcs11js';
import type * as P11 from 'pkcs11js';

/** Drops CKA_COPYABLE from a template for a module that does not know it (NSS softoken fails the whole call). */
function withCopyable(template: P11.Template, copyable: boolean): P11.Template {
  return copyable ? template : template.filter((attribute) => attribute.type !== pkcs11js.CKA_COPYABLE);
}

/**
 * A CMK version: a token object that can only wrap and unwrap and never leaves the HSM.
 * `copyable` is false for a module without CKA_COPYABLE, where the attribute is left out.
 */
export function cmkTemplate(label: string, id: Buffer, copyable = true): P11.Template {
  return withCopyable(
    [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: id },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_MODIFIABLE, value: false },
      { type: pkcs11js.CKA_COPYABLE, value: false },
      { type: pkcs11js.CKA_WRAP, value: true },
      { type: pkcs11js.CKA_UNWRAP, value: true },
      { type: pkcs11js.CKA_ENCRYPT, value: false },
      { type: pkcs11js.CKA_DECRYPT, value: false },
      { type: pkcs11js.CKA_SIGN, value: false },
      { type: pkcs11js.CKA_VERIFY, value: false },
      { type: pkcs11js.CKA_DERIVE, value: false },
    ],
    copyable,
  );
}

/** A fresh KEK inside the HSM: a session object that can be wrapped but not read. */
export const kekGenerateTemplate: P11.Template = [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
  { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
  { type: pkcs11js.CKA_TOKEN, value: false },
  { type: pkcs11js.CKA_SENSITIVE, value: true },
  { type: pkcs11js.CKA_EXTRACTABLE, value: true },
];

/**
 * An unwrapped KEK as a session object. `readable` lets the value be read into process memory
 * (for the cache); otherwise it stays sensitive and is only wrapped again (CMK rotation).
 * No CKA_VALUE_LEN: unwrap templates must not carry it (CKR_ATTRIBUTE_READ_ONLY).
 */
export function kekUnwrapTemplate(readable: boolean): P11.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_SENSITIVE, value: !readable },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
  ];
}

/** The audit MAC key: a generic secret that can only sign and verify, never copied or modified. */
export function auditKeyTemplate(label: string, id: Buffer, copyable = true): P11.Template {
  return withCopyable(
    [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_ID, value: id },
      { type: pkcs11js.CKA_MODIFIABLE, value: false },
      { type: pkcs11js.CKA_COPYABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_ENCRYPT, value: false },
      { type: pkcs11js.CKA_DECRYPT, value: false },
      { type: pkcs11js.CKA_WRAP, value: false },
      { type: pkcs11js.CKA_UNWRAP, value: false },
      { type: pkcs11js.CKA_DERIVE, value: false },
    ],
    copyable,
  );
}

/**
 * An existing KEK's bytes as a session object, only to be wrapped under another CMK (`wrapKekBytes`):
 * sensitive, so the module never shows the value again.
 */
export function kekImportTemplate(value: Buffer): P11.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    { type: pkcs11js.CKA_VALUE, value },
  ];
}
