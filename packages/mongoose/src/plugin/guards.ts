import { UnreadableValue } from '@keystrata/core';
import { BLIND_INDEX_PREFIX, isEnvelope } from '@keystrata/core/adapter';
import type { Schema, SchemaType } from 'mongoose';
import type { SchemaSpec } from './schema-spec.js';

const GUARDED = Symbol.for('keystrata.mongoose.guarded');
type Fn = ((this: unknown, ...args: unknown[]) => unknown) & { [GUARDED]?: true };
interface Validator {
  validator: Fn | RegExp;
  [key: string]: unknown;
}
interface Guardable {
  validators: Validator[];
  setters: Fn[];
  requiredValidator?: unknown;
}

const isIndex = (v: unknown): boolean => typeof v === 'string' && v.startsWith(BLIND_INDEX_PREFIX);
const isStored = (v: unknown): boolean => isEnvelope(v) || UnreadableValue.isInstance(v);

function guard(original: Fn | RegExp, stored: (v: unknown) => boolean, passValue: boolean): Fn {
  const run: Fn = original instanceof RegExp ? (v) => original.test(String(v)) : original;
  const wrapped: Fn = function (this: unknown, value: unknown, ...rest: unknown[]) {
    if (stored(value)) return passValue ? value : true;
    return run.call(this, value, ...rest);
  };
  wrapped[GUARDED] = true;
  return wrapped;
}

function guardType(type: SchemaType | undefined, stored: (v: unknown) => boolean): void {
  const t = type as unknown as Guardable | undefined;
  if (t === undefined) return;
  t.validators.forEach((v, i) => {
    if (v.validator === t.requiredValidator || (typeof v.validator === 'function' && v.validator[GUARDED])) return;
    t.validators[i] = { ...v, validator: guard(v.validator, stored, false) };
  });
  t.setters.forEach((s, i) => {
    if (!s[GUARDED]) t.setters[i] = guard(s, stored, true);
  });
}

/**
 * Makes the validators and setters of encrypted paths (and their blind-index paths) pass stored
 * values (envelopes, unreadable-value placeholders, blind indexes) through untouched: validators run on plaintext before the plugin encrypts (Mongoose's
 * own later validation of insertMany, bulkWrite and update validators then sees an envelope and
 * skips it), and a setter such as `lowercase` never rewrites an envelope. The `required`
 * validator is left as it is. Idempotent; re-run before each operation so later additions are
 * covered.
 *
 * @example
 * ```ts
 * guardSchema(schema, spec);
 * ```
 */
export function guardSchema(schema: Schema, spec: SchemaSpec): void {
  for (const f of spec.fields) {
    guardType(schema.path(f.path), isStored);
    if (f.index !== undefined) guardType(schema.path(f.index), isIndex);
  }
}
