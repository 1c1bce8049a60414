import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KeystrataError } from '@keystrata/core';
import type { Command } from '../context.js';

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
      await writeFile(file, `${JSON.stringify(data)}\n`, { mode: 0o600 });
      c.out.result({ file }, () => `Backup written to ${path} (wrapped keys only; restorable with this HSM token).`);
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(file, 'utf8'));
      } catch {
        throw new KeystrataError('BACKUP_INVALID', `${path} could not be read as a backup file.`);
      }
      const result = await hierarchy.importBackup(parsed);
      c.out.result(result, () => `Restored ${result.cmks} CMK, ${result.keks} KEK and ${result.deks} DEK record(s); ${result.skipped} already present.${result.missingInHsm.length ? ` Missing in this HSM: ${result.missingInHsm.join(', ')}` : ''}`);
    }
  },
};
