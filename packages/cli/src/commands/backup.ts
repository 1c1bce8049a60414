import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { KeystrataError } from '@keystrata/core';
import type { Command } from '../context.js';

/**
 * Writes `text` to `file` readable by the owner only (0600), also over an existing file: a new file
 * is created 0600 beside it and renamed over it, so the old file's mode never applies.
 */
async function writePrivateFile(file: string, text: string): Promise<void> {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new KeystrataError('CONFIG_INVALID', `The backup could not be written to ${basename(file)}: check the directory exists and is writable.`, { cause: error });
  }
}

/** `keystrata backup export|import <file>`. */
export const backup: Command = {
  usage: 'backup export <file> | backup import <file>',
  summary: 'Export wrapped keys and metadata (MACed by the HSM), or restore them after verification.',
  async run(c) {
    const [action, path] = c.positionals;
    if ((action !== 'export' && action !== 'import') || path === undefined) throw new KeystrataError('CONFIG_INVALID', 'Usage: keystrata backup export|import <file>');
    const file = resolve(process.cwd(), path);
    const hierarchy = await c.hierarchy();
    if (action === 'export') {
      const data = await hierarchy.exportBackup();
      await writePrivateFile(file, `${JSON.stringify(data)}\n`);
      c.out.result({ file }, () => `Backup written to ${path} (wrapped keys only; restorable with this HSM token).`);
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(file, 'utf8'));
      } catch {
        throw new KeystrataError('BACKUP_INVALID', `${path} could not be read as a backup file.`);
      }
      const result = await hierarchy.importBackup(parsed);
      c.out.result(
        result,
        () =>
          `Restored ${result.cmks} CMK, ${result.keks} KEK and ${result.deks} DEK record(s); ${result.skipped} already present; ${result.restoredDestroyed} restored as destroyed; ${result.tombstones} tombstone(s) learnt${result.auditKeyCopies ? "; the audit key's wrapped copies restored" : ''}.${result.missingInHsm.length ? ` Missing in this HSM (restored as destroyed): ${result.missingInHsm.join(', ')}` : ''}`,
      );
    }
  },
};
