import { Prisma } from '@prisma/client/extension';
import type { ExtendablePrismaClient, WithKeystrata } from './extended-type.js';
import { handleOperation, type HookParams } from './handle-operation.js';
import type { KeystrataPrismaOptions } from './options.js';
import { KeystrataRuntime } from './runtime.js';
import { guardLaterExtensions } from './innermost-guard.js';

/**
 * The Keystrata Prisma client extension, for `prisma.$extends(keystrataExtension(options))`.
 * Options are validated when the client is extended. Adds `$keystrata` (see
 * {@link KeystrataRuntime}) to the client. Query extensions must be applied before it: one applied
 * later runs after the encryption, so any change it makes to the arguments is refused
 * (`CONFIG_INVALID`) before the query is sent.
 *
 * @example
 * ```ts
 * const db = prisma.$extends(keystrataExtension({ hierarchy, fieldMap, segment: { by: 'tenant', field: 'tenantId' } }));
 * ```
 */
export function keystrataExtension(options: KeystrataPrismaOptions) {
  return Prisma.defineExtension((client) => {
    const rt = new KeystrataRuntime(options, client);
    const extended = client.$extends({
      name: 'keystrata',
      client: { $keystrata: rt },
      query: { $allModels: { $allOperations: (params) => handleOperation(rt, params as unknown as HookParams) } },
    });
    // No guard layer yet: nothing runs between Keystrata and the engine until a later `$extends`,
    // which appends the guard after itself (guardLaterExtensions). Every query-extension layer costs
    // each query a Prisma round of its own (about 15–20 µs measured on a findFirst, issue 16 §W3).
    return guardLaterExtensions(extended, () => rt.markComposed());
  });
}

/**
 * Extends a PrismaClient so marked fields are encrypted on every write and decrypted on every
 * read, at any nesting depth, and filters on them go through their blind index. The returned
 * client keeps your generated types.
 *
 * @example
 * ```ts
 * import { fieldMap } from './generated/keystrata/index.js';
 * const db = withKeystrata(new PrismaClient({ adapter }), { hierarchy, fieldMap, segment: { by: 'tenant', field: 'tenantId' } });
 * await db.patient.create({ data: { tenantId: 'acme', ssn: '123-45-6789', email: 'a@b.c' } });
 * ```
 */
export function withKeystrata<Client extends ExtendablePrismaClient>(client: Client, options: KeystrataPrismaOptions): WithKeystrata<Client> {
  return client.$extends(keystrataExtension(options)) as WithKeystrata<Client>;
}

/**
 * The type of {@link keystrataExtension}'s result.
 *
 * @example
 * ```ts
 * const extension: KeystrataExtension = keystrataExtension(options);
 * ```
 */
export type KeystrataExtension = ReturnType<typeof keystrataExtension>;
