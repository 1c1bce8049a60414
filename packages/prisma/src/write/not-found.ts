import { Prisma } from '@prisma/client/extension';
import { PrismaClientKnownRequestError } from '@prisma/client/runtime/client';

/**
 * Prisma's own "record not found" error (P2025), for a nested update whose record a context
 * lookup did not find: the same error Prisma would have raised, raised before anything is
 * encrypted or written.
 *
 * @example
 * ```ts
 * throw notFound('Post', 'nested update');
 * ```
 */
export function notFound(model: string, operation: string): PrismaClientKnownRequestError {
  return new PrismaClientKnownRequestError(`No ${model} record was found for a ${operation}.`, {
    code: 'P2025',
    clientVersion: Prisma.prismaVersion.client,
    meta: { modelName: model, cause: `No record was found for a ${operation}.` },
  });
}
