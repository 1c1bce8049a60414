import { KeystrataError, type ShredEpochResult } from '@keystrata/core';
import type { Command } from '../context.js';
import { keyringFlag } from '../flags.js';

function describe(results: readonly ShredEpochResult[]): string {
  if (results.length === 0) return 'No destroyed key awaits a shred epoch.';
  return results
    .map((r) =>
      r.ran
        ? `keyring ${r.keyring}: shred epoch done${r.resumed ? ' (resumed)' : ''}; now CMK v${r.cmkVersion}, KEK v${r.kekVersion}; ${r.rewrapped} DEK(s) re-wrapped; KEK v${r.destroyedKeks.join(', v') || '-'} destroyed; CMK v${r.retiredCmks.join(', v') || '-'} destroyed in the HSM; ${r.durable} destroyed key(s) now durably gone. ${r.purge}.`
        : `keyring ${r.keyring}: ${r.durable > 0 ? `${r.durable} destroyed key(s) durably gone (every CMK version was destroyed)` : 'nothing pending'}.`,
    )
    .join('\n');
}

/** `keystrata shred complete [--keyring <k>]`: runs the shred epochs that make pending destroys durable. */
export const shred: Command = {
  usage: 'shred complete [--keyring <k>]',
  summary: 'Make pending destroys durable: new CMK and KEK versions, DEKs re-wrapped, old versions destroyed in the HSM (resumable).',
  async run(c) {
    if (c.positionals[0] !== 'complete' || c.positionals.length > 1) throw new KeystrataError('CONFIG_INVALID', 'Usage: keystrata shred complete [--keyring <k>]');
    const keyring = keyringFlag(c);
    const results = await (await c.hierarchy()).completeShreds(keyring === undefined ? {} : { keyring });
    c.out.result(results, describe);
  },
};
