import { KeystrataError } from '@keystrata/core';

/**
 * Options of {@link Encrypted}.
 *
 * @example
 * ```ts
 * const options: EncryptedOptions = { index: 'emailIndex' };
 * ```
 */
export interface EncryptedOptions {
  /** Property (a text column of the same entity) that holds the field's blind index, for equality lookups. */
  readonly index?: string;
}

const FIELDS = new WeakMap<object, Map<string, EncryptedOptions>>();

/**
 * Marks a text column as encrypted: its value is stored as a Keystrata envelope (`ks1.…`) and read
 * back as plaintext. With `index`, the named column holds a blind index for equality lookups.
 *
 * @example
 * ```ts
 * @Encrypted({ index: 'emailIndex' }) @Column('text') email!: string;
 * @Column('text', { nullable: true, unique: true }) emailIndex?: string;
 * ```
 */
export function Encrypted(options: EncryptedOptions = {}): PropertyDecorator {
  return (target, property) => {
    if (typeof property !== 'string') throw new KeystrataError('CONFIG_INVALID', '@Encrypted() needs a named property.');
    if (typeof options !== 'object' || options === null)
      throw new KeystrataError('CONFIG_INVALID', `@Encrypted() on ${property} takes an options object: @Encrypted() or @Encrypted({ index: 'emailIndex' }).`);
    const unknown = Object.keys(options).find((key) => key !== 'index');
    if (unknown !== undefined) throw new KeystrataError('CONFIG_INVALID', `@Encrypted() on ${property} has no option "${unknown}"; its only option is "index": @Encrypted({ index: 'emailIndex' }).`);
    const index = options.index;
    if (index !== undefined && (typeof index !== 'string' || index === '' || index === property)) {
      throw new KeystrataError('CONFIG_INVALID', `@Encrypted({ index }) on ${property} must name another property.`);
    }
    let fields = FIELDS.get(target.constructor);
    if (fields === undefined) FIELDS.set(target.constructor, (fields = new Map()));
    fields.set(property, index === undefined ? {} : { index });
  };
}

/**
 * The `@Encrypted()` properties of a class, its base classes included.
 *
 * @example
 * ```ts
 * encryptedPropertiesOf(Patient); // Map { 'ssn' => {}, 'email' => { index: 'emailIndex' } }
 * ```
 */
export function encryptedPropertiesOf(target: unknown): Map<string, EncryptedOptions> {
  const chain: object[] = [];
  for (let c = target; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) chain.unshift(c);
  return new Map(chain.flatMap((c) => [...(FIELDS.get(c) ?? [])]));
}
