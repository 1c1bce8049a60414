import type { ModelContext } from './state.js';

type ValidationErrorClass = new () => Error & { addError(path: string, error: unknown): void };
type Validatable = { doValidate(value: unknown, scope: unknown, options: object): Promise<void> };

/**
 * Runs one path's validators on a plaintext value and reports a failure as Mongoose's own
 * ValidationError (as `save()` and update validators would).
 *
 * @example
 * ```ts
 * await validatePath(ctx, 'ssn', '123-45-6789', doc, {});
 * ```
 */
export async function validatePath(ctx: ModelContext, path: string, value: unknown, scope: unknown, options: object): Promise<void> {
  try {
    await (ctx.schema.path(path) as unknown as Validatable).doValidate(value, scope, { ...options, path });
  } catch (error) {
    const validation = new (ctx.model.base.Error.ValidationError as unknown as ValidationErrorClass)();
    validation.addError(path, error);
    throw validation;
  }
}
