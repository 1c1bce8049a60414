#!/usr/bin/env node
// Every `// Precondition: <title>` comment in packages/*/src has a test titled exactly `Precondition: <title>`
// (docs/conventions.md). Exits 1 listing the comments that have none. Run by `pnpm lint`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const skipped = new Set(['node_modules', 'dist', 'generated', '.turbo']);

/** Every file under `dir` whose name passes `keep`, skipping build output and dependencies. */
function filesUnder(dir, keep) {
  const found = [];
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipped.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path, keep));
    else if (keep(path)) found.push(path);
  }
  return found;
}

const packagesDir = join(root, 'packages');
const packages = readdirSync(packagesDir, { withFileTypes: true }).filter((e) => e.isDirectory());
const isSource = (path) => /\.(m|c)?[jt]s$/.test(path);
const isTest = (path) => /\.test\.(m|c)?[jt]s$/.test(path) || /[/\\]test[/\\]/.test(path);

const preconditions = [];
for (const pkg of packages) {
  for (const file of filesUnder(join(packagesDir, pkg.name, 'src'), (p) => isSource(p) && !isTest(p))) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        const match = /\/\/\s*(Precondition:\s*.+?)\s*$/.exec(line);
        if (match) preconditions.push({ title: match[1], where: `${relative(root, file)}:${index + 1}` });
      });
  }
}

const testTexts = [];
for (const pkg of packages) {
  for (const file of filesUnder(join(packagesDir, pkg.name), (p) => isSource(p) && isTest(p))) testTexts.push(readFileSync(file, 'utf8'));
}
const quoted = (title) => ["'", '"', '`'].map((quote) => `${quote}${title}${quote}`);
const missing = preconditions.filter(({ title }) => !testTexts.some((text) => quoted(title).some((q) => text.includes(q))));

if (missing.length > 0) {
  console.error(`check-preconditions: ${missing.length} precondition comment(s) have no test with the same title:`);
  for (const { title, where } of missing) console.error(`  ${where}  ${title}`);
  console.error("Add a test titled exactly as the comment, e.g. it('Precondition: …', …).");
  process.exit(1);
}
console.log(`check-preconditions: ${preconditions.length} precondition comments, each with a test of the same title.`);
