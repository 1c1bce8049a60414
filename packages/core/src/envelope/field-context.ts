/**
 * Where a value lives. The model, field and (when known) record id are bound into the
 * ciphertext's AAD, so a value moved elsewhere fails to decrypt.
 *
 * @example
 * ```ts
 * const context: FieldContext = { model: 'Patient', field: 'ssn', recordId: 'p_1', segment: 'tenant:acme' };
 * ```
 */
export interface FieldContext {
  /** Logical model or collection name, e.g. `Patient`. */
  readonly model: string;
  /** Field path, e.g. `ssn` or `address.street`. */
  readonly field: string;
  /** The record's identity, when the caller has it at write time. */
  readonly recordId?: string | undefined;
  /**
   * The data segment whose DEK protects the value. Required to encrypt; on decrypt, when given,
   * the value's DEK must belong to this segment (a value moved across segments fails).
   */
  readonly segment?: string | undefined;
  /** The keyring (CMK + KEK) of the segment; defaults to the hierarchy's keyring. */
  readonly keyring?: string | undefined;
}
