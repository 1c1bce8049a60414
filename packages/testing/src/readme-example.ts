import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Runs the first ```ts block of a package's README (after an `<!-- example -->` marker if there
 * is one) as a module inside the package, with `env` set, and returns what it logged. The block
 * is written to `test/.readme-example.ts` (git-ignored) so its imports resolve like the package's.
 */
export async function runReadmeExample(packageDir: string, env: Record<string, string> = {}): Promise<string[]> {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const from = readme.indexOf('<!-- example -->');
  const match = /```ts\n([\s\S]*?)```/.exec(from >= 0 ? readme.slice(from) : readme);
  if (match === null) throw new Error(`${packageDir}/README.md has no \`\`\`ts example`);
  const file = join(packageDir, 'test', '.readme-example.ts');
  writeFileSync(file, match[1]!);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const logged: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => logged.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  try {
    await import(`${pathToFileURL(file).href}?run=${Date.now()}`);
  } finally {
    console.log = log;
    process.env = saved;
  }
  return logged;
}
