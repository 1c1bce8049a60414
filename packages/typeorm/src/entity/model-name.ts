import { KeystrataError } from '@keystrata/core';

const MODELS = new WeakMap<object, string>();

/**
 * Sets the logical model name bound into the ciphertexts of an entity (default: the class name).
 * Use the name another adapter uses for the same table, e.g. the Prisma model name.
 *
 * @example
 * ```ts
 * @EncryptedModel('Patient') @Entity('patients') class PatientRow { … }
 * ```
 */
export function EncryptedModel(name: string): ClassDecorator {
  if (typeof name !== 'string' || name === '') throw new KeystrataError('CONFIG_INVALID', '@EncryptedModel(name) needs a non-empty name.');
  return (target) => {
    MODELS.set(target, name);
  };
}

/**
 * The model name set with {@link EncryptedModel}, if any.
 *
 * @example
 * ```ts
 * modelNameOf(PatientRow); // 'Patient'
 * ```
 */
export function modelNameOf(target: unknown): string | undefined {
  return typeof target === 'function' ? MODELS.get(target) : undefined;
}
