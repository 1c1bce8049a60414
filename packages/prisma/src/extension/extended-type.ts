import type { Call, DynamicClientExtensionThis, ExtendsHook, InternalArgs, MergeExtArgs, TypeMapCbDef, TypeMapDef } from '@prisma/client/runtime/client';
import type { KeystrataRuntime } from './runtime.js';

type KeystrataArgs = InternalArgs<{}, {}, {}, { $keystrata: KeystrataRuntime }>;
type Merged<Cb extends TypeMapCbDef, Ext extends Record<string, any>> = MergeExtArgs<Call<Cb, { extArgs: Ext }> & TypeMapDef, Ext, KeystrataArgs>;

/**
 * The type of `client.$extends(keystrataExtension(…))` for a client type `Client`: exactly
 * what Prisma's own `$extends` returns (your models, payload types, `$transaction`), plus
 * `$keystrata`.
 *
 * @example
 * ```ts
 * type Db = WithKeystrata<PrismaClient>;
 * const db: Db = withKeystrata(new PrismaClient({ adapter }), options);
 * ```
 */
export type WithKeystrata<Client> = Client extends { $extends: ExtendsHook<'extends', infer Cb extends TypeMapCbDef, infer Ext extends Record<string, any>> }
  ? DynamicClientExtensionThis<Call<Cb, { extArgs: Merged<Cb, Ext> }> & TypeMapDef, Cb, Merged<Cb, Ext>>
  : never;

/**
 * A client `withKeystrata` can extend: any generated PrismaClient (or an extended one).
 *
 * @example
 * ```ts
 * function wrap<C extends ExtendablePrismaClient>(client: C) { return withKeystrata(client, options); }
 * ```
 */
export type ExtendablePrismaClient = { $extends: ExtendsHook<'extends', any, any> };
