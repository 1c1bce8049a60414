import { KeystrataError, type RevocationImpact, type RevocationOptions } from '@keystrata/core';
import type { Command, CommandContext } from '../context.js';
import { flag, keyReference } from '../flags.js';

function describe(r: RevocationImpact): string {
  const verb = r.dryRun ? `would ${r.action}` : { disable: 'disabled', enable: 'enabled', destroy: 'destroyed' }[r.action];
  const segments = r.segments.length ? ` (segments: ${r.segments.join(', ')}${r.deks > r.segments.length ? ', …' : ''})` : '';
  const keks = r.keks > 0 ? `${r.keks} KEK version(s) and ` : '';
  const durable =
    r.action !== 'destroy' || r.dryRun || r.durableAt === undefined
      ? ''
      : r.durableAt === null
        ? ' Not durable yet: run `keystrata shred complete` (old backups, WAL and dead tuples can still bring it back until then).'
        : ` Durably gone since ${r.durableAt} (shred epoch done: old backups cannot bring it back).`;
  return `${r.subject}: ${verb}; affects ${keks}${r.deks} DEK(s)${segments}.${durable}`;
}

async function change(c: CommandContext, action: 'disable' | 'enable' | 'destroy'): Promise<void> {
  const ref = keyReference(c, c.positionals[0]);
  const dryRun = c.flags['dry-run'] === true;
  const confirm = flag(c, 'confirm');
  if (action === 'destroy' && !dryRun && ref.kind !== 'cmk') {
    const expected = ref.kind === 'dek' ? ref.id : ref.kind === 'segment' ? ref.segment : `kek-v${ref.version}`;
    if (confirm !== expected) {
      throw new KeystrataError('CONFIRMATION_REQUIRED', `Destroying is irreversible: repeat with --confirm ${expected} (try --dry-run first).`);
    }
  }
  const durable = flag(c, 'durable');
  if (durable !== undefined && (action !== 'destroy' || (durable !== 'now' && durable !== 'deferred'))) {
    throw new KeystrataError('CONFIG_INVALID', '--durable is now or deferred, and only for destroy.');
  }
  const hierarchy = await c.hierarchy();
  const options: RevocationOptions = { dryRun, ...(confirm ? { confirm } : {}), ...(durable === 'now' || durable === 'deferred' ? { durable } : {}) };
  const result = action === 'disable' ? await hierarchy.disable(ref, options) : action === 'enable' ? await hierarchy.enable(ref, options) : await hierarchy.destroy(ref, options);
  c.out.result(result, describe);
}

/** `keystrata revoke dek|kek|cmk`: disable (reversible). */
export const revoke: Command = {
  usage: 'revoke dek --segment <s>|--id <id> | kek --version <n> | cmk --confirm <keyring> [--keyring <k>] [--dry-run]',
  summary: 'Disable a key (reversible with `enable`); evicted from this process at once, others within the cache max age.',
  run: (c) => change(c, 'disable'),
};

/** `keystrata enable dek|kek|cmk`. */
export const enable: Command = {
  usage: 'enable dek --segment <s>|--id <id> | kek --version <n> | cmk [--keyring <k>]',
  summary: 'Re-enable a disabled key (a destroyed key is refused: KEY_DESTROYED).',
  run: (c) => change(c, 'enable'),
};

/** `keystrata destroy dek|kek|cmk`: crypto-shredding. */
export const destroy: Command = {
  usage: 'destroy dek --segment <s>|--id <id> | kek --version <n> | cmk  --confirm <name> [--dry-run] [--durable now|deferred]',
  summary: 'Destroy a key (crypto-shredding, irreversible); needs --confirm naming it. Durable at once unless --durable deferred (then `shred complete`).',
  run: (c) => change(c, 'destroy'),
};
