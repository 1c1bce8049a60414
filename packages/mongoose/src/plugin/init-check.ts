import { KeystrataError } from '@keystrata/core';
import type { Document, Model, Schema } from 'mongoose';
import { builtIn, hooks } from './builtin.js';
import { getPath } from './paths.js';
import type { PluginState } from './state.js';

/**
 * Refuses to hydrate a stored document whose encrypted path holds something other than a string
 * (an object or array planted with raw access): Mongoose would cast it to `undefined` before the
 * plugin sees it, so a hydrated read would silently return nothing where `lean()` throws
 * (issue 12). Runs on the raw document, before casting: `find`, `findById`, `findOne`, cursors,
 * populate.
 *
 * @example
 * ```ts
 * installInitCheck(schema, state);
 * ```
 */
export function installInitCheck(schema: Schema, state: PluginState): void {
  hooks(schema).pre(
    'init',
    builtIn(function (this: Document, raw: unknown) {
      if (typeof raw !== 'object' || raw === null) return;
      const model = this.constructor as Model<unknown>;
      const spec = state.spec(model.schema ?? schema);
      for (const f of spec.fields) {
        const value = getPath(raw as Record<string, unknown>, f.path);
        if (value === undefined || value === null || typeof value === 'string') continue;
        throw new KeystrataError(
          'CIPHERTEXT_MALFORMED',
          `${model.modelName ?? 'document'}.${f.path} holds a stored ${Array.isArray(value) ? 'array' : typeof value}, not a Keystrata envelope; it was not decrypted or passed through. Restore the value from a backup or clear it.`,
        );
      }
    }),
  );
}
