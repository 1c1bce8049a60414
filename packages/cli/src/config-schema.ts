import { z } from 'zod';

const nonEmpty = z.string().min(1);
const positiveInteger = z.number().int().positive();

/** `hsm.pin`: where the PIN is, never the PIN itself. */
const pinSchema = z.union([z.object({ env: nonEmpty }).strict(), z.object({ file: nonEmpty }).strict()]);

/**
 * The schema of `keystrata.config.json`, key by key; every object is strict, so an unknown or
 * misspelt key is refused by name instead of ignored.
 *
 * @example
 * ```ts
 * CONFIG_SCHEMA.safeParse({ hsm: { tokenLabel: 'keystrata-dev' }, keyStore: { url: 'sqlite:keys.db' } }).success; // true
 * ```
 */
export const CONFIG_SCHEMA = z
  .object({
    $schema: z.string().optional(),
    hsm: z
      .object({
        module: nonEmpty.optional(),
        tokenLabel: nonEmpty.optional(),
        slotIndex: z.number().int().nonnegative().optional(),
        pin: pinSchema.optional(),
        softhsm2Conf: nonEmpty.optional(),
      })
      .strict()
      .optional(),
    keyStore: z.object({ url: nonEmpty.optional(), prefix: nonEmpty.optional(), schema: nonEmpty.optional() }).strict().optional(),
    keyring: nonEmpty.optional(),
    cmkLabelPrefix: nonEmpty.optional(),
    cache: z.object({ maxEntries: positiveInteger.optional(), maxAgeMs: positiveInteger.optional(), maxUses: positiveInteger.optional() }).strict().optional(),
    worker: z
      .object({
        module: nonEmpty.optional(),
        schema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,62}$/)
          .optional(),
        leaseSeconds: positiveInteger.optional(),
        batchSize: positiveInteger.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * What each key must be, in the words of a message (never quoting the value found).
 *
 * @example
 * ```ts
 * CONFIG_EXPECTATIONS['hsm.slotIndex']; // 'must be an integer ≥ 0'
 * ```
 */
export const CONFIG_EXPECTATIONS: Readonly<Record<string, string>> = {
  '': 'the file must hold one JSON object',
  hsm: 'must be an object',
  'hsm.module': 'must be a non-empty string',
  'hsm.tokenLabel': 'must be a non-empty string',
  'hsm.slotIndex': 'must be an integer ≥ 0',
  'hsm.pin': 'must be { "env": "VARIABLE_NAME" } or { "file": "path/to/pin" }, never the PIN itself',
  'hsm.softhsm2Conf': 'must be a non-empty string',
  keyStore: 'must be an object',
  'keyStore.url': 'must be a non-empty string',
  'keyStore.prefix': 'must be a non-empty string',
  'keyStore.schema': 'must be a non-empty string',
  keyring: 'must be a non-empty string',
  cmkLabelPrefix: 'must be a non-empty string',
  $schema: 'must be a string',
  cache: 'must be an object',
  'cache.maxEntries': 'must be a positive integer',
  'cache.maxAgeMs': 'must be a positive integer',
  'cache.maxUses': 'must be a positive integer',
  worker: 'must be an object',
  'worker.module': 'must be a non-empty string (path of a module exporting reencryptionHook, relative to the config file)',
  'worker.schema': 'must be a lower-case SQL identifier',
  'worker.leaseSeconds': 'must be a positive integer',
  'worker.batchSize': 'must be a positive integer',
};
