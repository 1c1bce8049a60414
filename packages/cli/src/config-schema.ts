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
        libraryParameters: nonEmpty.optional(),
      })
      .strict()
      .optional(),
    keyStore: z.object({ url: nonEmpty.optional(), prefix: nonEmpty.optional(), schema: nonEmpty.optional() }).strict().optional(),
    keyring: nonEmpty.optional(),
    cmkLabelPrefix: nonEmpty.optional(),
    cache: z
      .object({ maxEntries: positiveInteger.optional(), maxAgeMs: positiveInteger.optional(), maxUses: positiveInteger.optional(), revocationCheckMs: z.number().int().nonnegative().optional() })
      .strict()
      .optional(),
    rootKey: z
      .object({
        kind: z.enum(['cloned', 'independent']),
        probeIntervalMs: positiveInteger.optional(),
        members: z
          .array(
            z
              .object({
                name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
                module: nonEmpty.optional(),
                tokenLabel: nonEmpty.optional(),
                slotIndex: z.number().int().nonnegative().optional(),
                pin: pinSchema,
                softhsm2Conf: nonEmpty.optional(),
              })
              .strict(),
          )
          .min(1)
          .max(16),
      })
      .strict()
      .optional(),
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
  'hsm.libraryParameters': "must be a non-empty string (the module's C_Initialize parameters, e.g. NSS softoken's configdir='sql:…')",
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
  'cache.revocationCheckMs': 'must be an integer ≥ 0 (ms)',
  rootKey: 'must be an object { kind, members } (a root of several HSM members; docs/hsm-cluster.md)',
  'rootKey.kind': 'must be "cloned" or "independent"',
  'rootKey.probeIntervalMs': 'must be a positive integer',
  'rootKey.members': 'must be an array of 1 to 16 members { name, module, tokenLabel | slotIndex, pin, softhsm2Conf }',
  'rootKey.members.name': 'must be 1 to 64 letters, digits, ".", "_" or "-"',
  'rootKey.members.module': 'must be a non-empty string',
  'rootKey.members.tokenLabel': 'must be a non-empty string',
  'rootKey.members.slotIndex': 'must be an integer ≥ 0',
  'rootKey.members.pin': 'must be { "env": "VARIABLE_NAME" } or { "file": "path/to/pin" }, never the PIN itself',
  'rootKey.members.softhsm2Conf': 'must be a non-empty string',
  worker: 'must be an object',
  'worker.module': 'must be a non-empty string (path of a module exporting reencryptionHook, relative to the config file)',
  'worker.schema': 'must be a lower-case SQL identifier',
  'worker.leaseSeconds': 'must be a positive integer',
  'worker.batchSize': 'must be a positive integer',
};
