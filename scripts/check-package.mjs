#!/usr/bin/env node
// Checks the package in the current directory as its users will receive it (part of `pnpm lint`):
//   publint --strict   the package.json fields, exports map and files against the packed tarball
//   attw --pack        type resolution for import and require under node10, node16 (CJS and ESM)
//                      and bundler resolution, against a packed tarball
// Both tools are the root's devDependencies; they work offline once installed.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.bin');
const checks = [
  [join(bin, 'publint'), ['--strict']],
  [join(bin, 'attw'), ['--pack', '.', '--format', 'ascii']],
];
for (const [command, args] of checks) {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`check-package: ${command} ${args.join(' ')} failed in ${process.cwd()}`);
    process.exit(result.status ?? 1);
  }
}
