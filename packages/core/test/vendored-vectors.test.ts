import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { loadRfcKeyWrapVectors, loadWycheproof, repoRoot, vectorsDir } from '@keystrata/testing';
import { expect, it } from 'vitest';

it('issue 11 §6: the test vectors are vendored in the repository (tracked by git, source and license noted), not read from ../shared', () => {
  const root = repoRoot();
  const dir = vectorsDir();
  expect(dir.startsWith(root + sep), `${dir} is outside ${root}`).toBe(true);
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort();
  expect(files).toEqual(['aes_gcm_test.json', 'aes_kwp_test.json', 'aes_wrap_test.json', 'hkdf_sha256_test.json', 'rfc3394_rfc5649_vectors.json']);
  const tracked = execFileSync('git', ['ls-files', relative(root, dir)], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  for (const name of [...files, 'README.md']) expect(tracked, name).toContain(`${relative(root, dir)}/${name}`);
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  for (const name of files) expect(readme, name).toContain(`\`${name}\``);
  expect(readme).toMatch(/Apache-2\.0/);
  expect(readme).toMatch(/IETF Trust/);
  // What the crypto tests read loads from there.
  expect(loadWycheproof('aes_gcm_test.json').flatMap((g) => g.tests)).toHaveLength(316);
  expect(loadWycheproof('aes_kwp_test.json').flatMap((g) => g.tests)).toHaveLength(254);
  expect(loadWycheproof('hkdf_sha256_test.json').flatMap((g) => g.tests)).toHaveLength(86);
  expect(loadRfcKeyWrapVectors()).toHaveLength(8);
});
