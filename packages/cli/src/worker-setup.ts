import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMemoryRotationQueue, createMongoRotationQueue, createPgBossRotationQueue, KeystrataError, type KeyHierarchy, type ReencryptionHook, type RotationJobQueue } from '@keystrata/core';
import type { ResolvedConfig } from './config.js';
import { importFromProject } from './project-import.js';

type MongooseModule = { default: { createConnection(url: string, options: object): { asPromise(): Promise<{ db?: { collection(name: string): unknown }; close(): Promise<void> }> } } };

/** A queue in the Mongo key store's database (collection `<prefix>rotation_jobs`), on its own connection. */
async function openMongoQueue(resolved: ResolvedConfig, url: string, leaseSeconds: number | undefined): Promise<RotationJobQueue> {
  const mongoose = (await importFromProject('mongoose', [resolved.dir, process.cwd()])) as MongooseModule;
  const connection = await mongoose.default.createConnection(url, { serverSelectionTimeoutMS: 10_000 }).asPromise();
  const collection = connection.db!.collection(`${resolved.config.keyStore?.prefix ?? 'keystrata_'}rotation_jobs`);
  const queue = createMongoRotationQueue(collection as never, leaseSeconds === undefined ? {} : { leaseMs: leaseSeconds * 1000 });
  return { ...queue, close: () => connection.close() };
}

/** The application's hook, and how to release what the module opened for it (its DataSource, client, connection). */
export interface LoadedHook {
  readonly hook: ReencryptionHook;
  close(): Promise<void>;
}

const HOOK_HINT =
  "Set worker.module in keystrata.config.json to a module exporting `async function reencryptionHook({ hierarchy })` that installs Keystrata on your DataSource / PrismaClient / Mongoose connection with that hierarchy and returns its adapter's hook (typeormReencryptionHook, prismaReencryptionHook, mongooseReencryptionHook), or { hook, close }.";

/**
 * Loads `worker.module` and calls its `reencryptionHook({ hierarchy })`: the application's own
 * re-encryption hook, built with the CLI's hierarchy (the CLI cannot know the application's models).
 *
 * @example
 * ```ts
 * const { hook, close } = await loadReencryptionHook(loadConfig(undefined), hierarchy);
 * ```
 */
export async function loadReencryptionHook(resolved: ResolvedConfig, hierarchy: KeyHierarchy): Promise<LoadedHook> {
  const path = resolved.config.worker?.module;
  if (path === undefined) throw new KeystrataError('CONFIG_INVALID', 'No re-encryption hook configured for workers.', { hint: HOOK_HINT });
  const file = isAbsolute(path) ? path : resolve(resolved.dir, path);
  let loaded: { reencryptionHook?: unknown; default?: { reencryptionHook?: unknown } };
  try {
    loaded = await import(pathToFileURL(file).href);
  } catch (error) {
    // The module's own message may quote its source: only its code is kept.
    const code = (error as { code?: unknown })?.code;
    throw new KeystrataError('CONFIG_INVALID', `worker.module ${file} could not be loaded (${typeof code === 'string' ? code : error instanceof Error ? error.name : 'error'}).`, { hint: HOOK_HINT });
  }
  const factory = loaded.reencryptionHook ?? loaded.default?.reencryptionHook;
  if (typeof factory !== 'function') throw new KeystrataError('CONFIG_INVALID', 'worker.module does not export a function reencryptionHook.', { hint: HOOK_HINT });
  const made = (await factory({ hierarchy })) as ReencryptionHook | { hook?: ReencryptionHook; close?: () => Promise<void> };
  const hook = 'hook' in made && made.hook !== undefined ? made.hook : (made as ReencryptionHook);
  if (typeof hook?.scan !== 'function' || typeof hook.write !== 'function')
    throw new KeystrataError('CONFIG_INVALID', 'reencryptionHook() of worker.module returned no hook (an object with scan and write).', { hint: HOOK_HINT });
  const close = 'close' in made && typeof made.close === 'function' ? made.close.bind(made) : async () => undefined;
  return { hook, close };
}

/**
 * The job queue of re-encryption workers for the configured key store: pg-boss in the key store's
 * PostgreSQL database (schema `worker.schema`, default `keystrata_jobs`); for SQLite, a queue in
 * this process (its workers run here: `rotate dek --workers N`). MongoDB: a collection of
 * `findOneAndUpdate` leases in the key store's database.
 *
 * @example
 * ```ts
 * const { queue, distributed } = await openRotationQueue(loadConfig(undefined));
 * ```
 */
export async function openRotationQueue(resolved: ResolvedConfig): Promise<{ queue: RotationJobQueue; distributed: boolean }> {
  const url = resolved.config.keyStore?.url ?? '';
  const { schema, leaseSeconds } = resolved.config.worker ?? {};
  if (/^postgres(ql)?:\/\//.test(url)) {
    return {
      queue: await createPgBossRotationQueue({ connectionString: url, ...(schema === undefined ? {} : { schema }), ...(leaseSeconds === undefined ? {} : { leaseSeconds }) }),
      distributed: true,
    };
  }
  if (/^mongodb(\+srv)?:\/\//.test(url)) return { queue: await openMongoQueue(resolved, url, leaseSeconds), distributed: true };
  if (url.startsWith('sqlite:')) return { queue: createMemoryRotationQueue(leaseSeconds === undefined ? {} : { leaseMs: leaseSeconds * 1000 }), distributed: false };
  throw new KeystrataError('CONFIG_INVALID', 'Re-encryption workers need a PostgreSQL, MongoDB or SQLite key store.', {
    hint: 'Run `keystrata rotate dek --segment <s>` without --workers: it re-encrypts in this process.',
  });
}
