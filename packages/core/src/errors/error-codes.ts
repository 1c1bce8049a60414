/**
 * Stable error codes. Match on `error.code`, never on the message.
 *
 * @example
 * ```ts
 * if (KeystrataError.isInstance(err) && err.code === 'KEY_DISABLED') showPlaceholder();
 * ```
 */
export const ERROR_CODES = {
  CONFIG_INVALID: 'Fix the option named in the message; options are validated once, when the object is created.',
  HSM_PIN_INCORRECT: 'Check the PIN source (environment variable, file or callback). The library never retries a wrong PIN, so the token does not lock.',
  HSM_PIN_LOCKED: 'The token PIN is locked. Unlock or re-initialise it with the security officer PIN.',
  HSM_UNAVAILABLE: 'Check the PKCS#11 module path, the token label or slot, and that the device is reachable.',
  HSM_MODULE_INCOMPATIBLE: 'The PKCS#11 module does not honour a required attribute or mechanism; use a module that does.',
  HSM_OPERATION_FAILED: 'The HSM refused the operation. The message names the PKCS#11 return value.',
  KEY_NOT_FOUND: 'The key does not exist in this key store (wrong database, keyring or an unrestored backup).',
  KEY_DISABLED: 'The key is disabled. Enable it again (`keystrata enable …`) if this was not intended.',
  KEY_DESTROYED: 'The key was destroyed (crypto-shredded); values under it cannot be recovered.',
  KEY_IN_USE: 'The key still protects other keys or data; rewrap or rotate them first.',
  CIPHERTEXT_MALFORMED: 'The value is not a Keystrata envelope of a supported version; it was never decrypted or passed through.',
  CIPHERTEXT_TAMPERED: 'Authentication failed: the value was modified, or moved from another record, field or segment.',
  CONFIRMATION_REQUIRED: 'This operation is irreversible; repeat it with the confirmation the message names.',
  AUDIT_CHAIN_BROKEN: 'The audit trail was edited, deleted from or reordered at the sequence number in the message.',
  BACKUP_INVALID: 'The backup file is damaged, forged or of an unsupported version; nothing was restored.',
  KEYSTORE_UNAVAILABLE: 'The key store database could not be reached or its tables are missing; check the database URL.',
  KEYSTORE_TAMPERED: 'A wrapped key or key record does not match the identity it is stored under: the key store was edited, swapped or restored wrongly. Restore it from a trusted backup; nothing was decrypted or written with it.',
  ROTATION_IN_PROGRESS: 'Another process holds the rotation lease for this keyring or segment; wait for it to finish (or for its lease to expire) and run the command again.',
  QUERY_UNSUPPORTED: 'Encrypted fields only support equality lookups through their blind index; rewrite the query.',
  PLAINTEXT_REJECTED: 'The value cannot be encrypted (unsupported type); nothing was written.',
  HSM_OBJECT_UNSAFE: 'A key object on the token is weaker than Keystrata creates it (extractable, not sensitive, copyable or modifiable) or its label and id are held by more than one object: someone with the PIN changed the token. Investigate and remove the extra or weaker object; nothing was wrapped, unwrapped or signed with it.',
  AUDIT_KEY_MISMATCH: 'The HSM audit key is missing or is not the one recorded at the start of the audit trail, so the trail cannot be MACed or verified. Restore the original audit key to the token (or the token from its backup); never create a new one for an existing trail.',
} as const;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;
