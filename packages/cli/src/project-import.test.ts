import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importFromProject } from './project-import.js';

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-project-'));
  const pkg = join(dir, 'node_modules', '@acme', 'store');
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@acme/store', type: 'module', exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } } }));
  writeFileSync(join(pkg, 'dist', 'index.js'), `export const where = ${JSON.stringify(dir)};\n`);
  mkdirSync(join(dir, 'config'), { recursive: true });
  return dir;
}

describe('importFromProject', () => {
  it('issue 12 (CLI): loads the package the application installed (its node_modules, from the config directory up)', async () => {
    const dir = project();
    const loaded = (await importFromProject('@acme/store', [join(dir, 'config')])) as { where: string };
    expect(loaded.where).toBe(dir);
  });

  it("issue 12 (CLI): a package the project lacks falls back to the CLI's own resolution, then fails with ERR_MODULE_NOT_FOUND", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keystrata-empty-'));
    await expect(importFromProject('@keystrata/core', [dir])).resolves.toHaveProperty('KeystrataError');
    await expect(importFromProject('@keystrata/no-such-package', [dir])).rejects.toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });
});
