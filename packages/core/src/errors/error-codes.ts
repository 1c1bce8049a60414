/**
 * Stable error codes, each with its generic hint (appended to the message). A generic hint must be
 * true for every use of the code; where it would mislead, the error passes its own `hint`.
 * Match on `error.code`, never on the message.
 *
 * @example
 * ```ts
 * if (KeystrataError.isInstance(err) && err.code === 'KEY_DISABLED') showPlaceholder();
 * ```
 */
export const ERROR_CODES = {
  CONFIG_INVALID: 'Fix the option, argument or name the message points to.',
  HSM_PIN_INCORRECT: 'Check the PIN source (environment variable, file or callback). The library never retries a wrong PIN, so the token does not lock.',
  HSM_PIN_LOCKED: 'The token PIN is locked. Unlock or re-initialise it with the security officer PIN.',
  HSM_UNAVAILABLE: 'Check the PKCS#11 module path, the token label or slot, and that the device is reachable.',
  HSM_MODULE_INCOMPATIBLE: 'The PKCS#11 module does not honour a required attribute or mechanism; use a module that does.',
  HSM_OPERATION_FAILED: 'The HSM refused the operation. The message names the PKCS#11 return value.',
  KEY_NOT_FOUND: 'The key does not exist where it was looked up: check the key store (database URL), the keyring and the HSM token, or restore a backup.',
  KEY_DISABLED: 'The key is disabled. Enable it again (`keystrata enable …`) if this was not intended.',
  KEY_DESTROYED: 'The key was destroyed (crypto-shredded); values under it cannot be recovered.',
  KEY_IN_USE: 'The key still protects other keys or data; rewrap or rotate them first.',
  CIPHERTEXT_MALFORMED: 'The data is not in a format Keystrata reads (the message says which part); nothing was decrypted, and nothing was passed through as plaintext.',
  CIPHERTEXT_TAMPERED: 'Authentication failed: the data was modified, or is read in another place (record, field, segment or key store) than it was written for; nothing was decrypted.',
  CONFIRMATION_REQUIRED: 'This operation is irreversible; repeat it with the confirmation the message names.',
  AUDIT_CHAIN_BROKEN: 'The audit trail does not verify where the message says: records were edited, deleted, reordered or truncated there.',
  BACKUP_INVALID: 'The backup file is damaged, forged or of an unsupported version; nothing was restored.',
  KEYSTORE_UNAVAILABLE:
    'The key-store database failed or could not be reached (the cause names the driver error): check the database URL, that the database is running, and that its Keystrata tables exist.',
  KEYSTORE_TAMPERED:
    'A wrapped key or key record does not match the identity it is stored under: the key store was edited, swapped or restored wrongly. Restore it from a trusted backup; nothing was decrypted or written with it.',
  ROTATION_IN_PROGRESS: 'Another process holds the rotation lease for this keyring or segment; wait for it to finish (or for its lease to expire) and run the command again.',
  QUERY_UNSUPPORTED:
    'Encrypted fields hold ciphertext: the database can match them only by equality through a blind index, and Keystrata refuses operations it cannot check or decrypt. The message says what to do instead.',
  PLAINTEXT_REJECTED: 'Keystrata refused to write this value (the message says why); nothing was written.',
  SEGMENT_FIELD_MISSING: 'The row was read without the field its segment is chosen from, so its values cannot be checked against their segment; select that field (the adapters add it to queries).',
  HSM_OBJECT_UNSAFE:
    'A key object on the token is weaker than Keystrata creates it (extractable, not sensitive, copyable or modifiable) or its label and id are held by more than one object: someone with the PIN changed the token. Investigate and remove the extra or weaker object; nothing was wrapped, unwrapped or signed with it.',
  AUDIT_KEY_MISMATCH:
    'The HSM audit key is missing or is not the one recorded at the start of the audit trail, so the trail cannot be MACed or verified. Restore the original audit key to the token (or the token from its backup); never create a new one for an existing trail.',
} as const;

/**
 * A stable error code.
 *
 * @example
 * ```ts
 * const retryable: readonly ErrorCode[] = ['HSM_UNAVAILABLE', 'KEYSTORE_UNAVAILABLE'];
 * if (KeystrataError.isInstance(err) && retryable.includes(err.code)) await retryLater();
 * ```
 */
export type ErrorCode = keyof typeof ERROR_CODES;
