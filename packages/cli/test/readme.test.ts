import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));

it('runs the README example as a shell session in an empty directory', () => {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const script = /<!-- example -->\s*```sh\n([\s\S]*?)```/.exec(readme)![1]!;
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-readme-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(join(packageDir, 'dist', 'bin.js'), join(bin, 'keystrata'));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  delete env.SOFTHSM2_CONF;
  const output = execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, env, encoding: 'utf8' });
  expect(output).toContain('123-45-6789');
  expect(output).toMatch(/CMK v2\s+primary/);
  expect(output).toMatch(/Audit trail intact: \d+ record/);
  expect(readFileSync(join(dir, 'ssn.txt'), 'utf8')).toMatch(/^ks1\./);
});
