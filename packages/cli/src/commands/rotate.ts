import { KeystrataError } from '@keystrata/core';
import type { Command } from '../context.js';
import { intFlag, keyringFlag } from '../flags.js';
import { rotateDekCommand } from './worker.js';

/**
 * `keystrata rotate cmk|kek`. One rotation per keyring at a time (a lease in the key store): a
 * second one fails with `ROTATION_IN_PROGRESS`, naming the holder and its lease expiry, and creates
 * nothing. An interrupted rotation resumes when the command runs again.
 */
export const rotate: Command = {
  usage: 'rotate cmk|kek|dek [--keyring <k>] [dek: --segment <s> [--workers N] [--old-keys keep|disable|destroy] [--batch-size 500]]',
  summary:
    'CMK: new version in the HSM, every KEK re-wrapped (resumable). KEK: new version for new DEKs. DEK: new DEK for a segment, records re-encrypted through worker.module (--workers: in batches by workers). One rotation per keyring/segment at a time.',
  async run(c) {
    const hierarchy = await c.hierarchy();
    const keyring = keyringFlag(c);
    const which = c.positionals[0];
    if (which === 'cmk') {
      // Only counted progress (re-wrapping KEKs); the rotation's named steps are for logs and tests.
      const result = await hierarchy.rotateCmk({
        ...(keyring ? { keyring } : {}),
        onProgress: (p) => {
          if (p.total !== undefined) c.out.progress(p);
        },
      });
      c.out.result(
        result,
        () => `CMK of "${result.keyring}" is now v${result.version}; ${result.rewrapped} KEK version(s) re-wrapped inside the HSM${result.resumed ? ' (resumed an interrupted rotation)' : ''}.`,
      );
    } else if (which === 'kek') {
      const result = await hierarchy.rotateKek(keyring ? { keyring } : {});
      c.out.result(result, () => `KEK of "${result.keyring}" is now v${result.version}; new DEKs wrap under it. Run \`keystrata rewrap\` to move old DEKs.`);
    } else if (which === 'dek') {
      await rotateDekCommand(c);
    } else {
      throw new KeystrataError('CONFIG_INVALID', 'Usage: keystrata rotate cmk|kek|dek');
    }
  },
};

/** `keystrata rewrap`: old DEKs under the primary KEK, without touching data. */
export const rewrap: Command = {
  usage: 'rewrap [--keyring <k>] [--batch-size 500]',
  summary: 'Move DEKs wrapped by old KEK versions under the primary KEK (data untouched; resumable).',
  async run(c) {
    const keyring = keyringFlag(c);
    const result = await (await c.hierarchy()).rewrapDeks({ ...(keyring ? { keyring } : {}), batchSize: intFlag(c, 'batch-size', 500), onProgress: (p) => c.out.progress(p) });
    const reasons = [...new Set(result.failures.map((f) => f.code))].join(', ');
    c.out.result(
      result,
      () =>
        `${result.rewrapped} DEK(s) now under KEK v${result.kekVersion}${result.failed ? `; ${result.failed} could not be moved and keep their wrapping (${reasons}; see --json for each DEK), run \`keystrata rewrap\` again after fixing that` : ''}.`,
    );
  },
};

/** `keystrata retire cmk --version n`. */
export const retire: Command = {
  usage: 'retire cmk --version <n> [--keyring <k>]',
  summary: 'Destroy an old CMK version in the HSM (refused while anything references it).',
  async run(c) {
    if (c.positionals[0] !== 'cmk') throw new KeystrataError('CONFIG_INVALID', 'Usage: keystrata retire cmk --version <n>');
    const keyring = keyringFlag(c);
    const version = intFlag(c, 'version');
    await (await c.hierarchy()).retireCmk({ version, ...(keyring ? { keyring } : {}) });
    c.out.result({ retired: { version } }, () => `CMK v${version} retired and destroyed in the HSM.`);
  },
};
