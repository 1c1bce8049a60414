import { AsyncLocalStorage } from 'node:async_hooks';
import { KeystrataError } from '@keystrata/core';
import type { Row } from '../util/plain.js';

/** What Keystrata handed the rest of the extension chain for the query running in this async context. */
interface Sent {
  readonly label: string;
  readonly fingerprint: string;
}

const sent = new AsyncLocalStorage<Sent | undefined>();

/**
 * Queries running under `sent`. While none runs it is disabled: an AsyncLocalStorage in use makes
 * Node track every promise of the process (promise hooks, paid by all of the application's
 * promises) until it is disabled (issue 16 §W3). Nothing is lost: no query context is live then.
 */
let running = 0;

function runWith<T>(entry: Sent | undefined, query: () => Promise<T>): Promise<T> {
  running++;
  return sent
    .run(entry, async () => await query())
    .finally(() => {
      if (--running === 0) sent.disable();
    });
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Date) return `date:${value.toISOString()}`;
  return value;
}

/** A structural fingerprint of query arguments (JSON with bigints and dates spelled out). */
function fingerprintOf(args: unknown): string {
  return JSON.stringify(args, replacer) ?? 'undefined';
}

/**
 * Runs `query(args)` remembering the arguments Keystrata sends, so the innermost guard can check
 * that no query extension applied after Keystrata changed them. `label` is `undefined` for
 * operations Keystrata does not handle (nothing is checked for them).
 *
 * @example
 * ```ts
 * return sendChecked('Patient.create', args, (a) => query(a));
 * ```
 */
function sendChecked<T>(label: string | undefined, args: Row, query: (args: Row) => Promise<T>): Promise<T> {
  const entry = label === undefined ? undefined : { label, fingerprint: fingerprintOf(args) };
  return runWith(entry, () => query(args));
}

/**
 * {@link sendChecked} when `checked`, else the query as is (with no record of sent arguments, so
 * an enclosing operation's record does not apply to it).
 *
 * @example
 * ```ts
 * return sendIf(rt.composed, 'Patient.create', args, (a) => query(a));
 * ```
 */
export function sendIf<T>(checked: boolean, label: string | undefined, args: Row, query: (args: Row) => Promise<T>): Promise<T> {
  if (checked) return sendChecked(label, args, query);
  if (sent.getStore() === undefined) return query(args);
  return runWith(undefined, () => query(args));
}

/**
 * The check of the innermost guard: the arguments about to reach the database engine are the
 * ones Keystrata sent (with its envelopes and blind indexes), else CONFIG_INVALID before anything
 * is sent.
 *
 * @example
 * ```ts
 * assertUnchanged(args); // in the guard extension, just before query(args)
 * ```
 */
export function assertUnchanged(args: unknown): void {
  const entry = sent.getStore();
  if (entry === undefined || fingerprintOf(args) === entry.fingerprint) return;
  throw new KeystrataError(
    'CONFIG_INVALID',
    `A query extension applied after withKeystrata changed the arguments of ${entry.label} after Keystrata encrypted them; nothing was sent. Apply query extensions before Keystrata: withKeystrata(prisma.$extends(yourExtension), options).`,
  );
}
