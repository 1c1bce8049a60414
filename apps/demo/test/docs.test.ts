import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The monorepo root: the folder above this file that holds pnpm-workspace.yaml. */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('pnpm-workspace.yaml not found above apps/demo/test');
    dir = parent;
  }
  return dir;
}

const root = findRepoRoot();
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** SHA-256 of the canonical Apache License 2.0 text (https://www.apache.org/licenses/LICENSE-2.0.txt). */
const APACHE_2_0_SHA256 = 'cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30';

/** Matches a cited test in docs/threat-model.md: `[path](../path) › \`title\``. */
const CITATION = /\[([^\]]+)\]\(([^)]+)\) › `([^`]+)`/g;

interface Citation {
  readonly path: string;
  readonly link: string;
  readonly title: string;
}

/** The citations outside HTML comments (a commented-out citation waits for a test not merged yet). */
function citations(markdown: string): Citation[] {
  return [...markdown.replace(/<!--[\s\S]*?-->/g, '').matchAll(CITATION)].map((m) => ({ path: m[1]!, link: m[2]!, title: m[3]! }));
}

/** The source as its string literals read: escaped quotes and backslashes unescaped. */
function unescapedSource(source: string): string {
  return source.replace(/\\(['"`\\])/g, '$1');
}

/** Markdown without fenced code blocks, inline code spans and HTML comments, where links are not links. */
function withoutCode(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/`[^`\n]*`/g, '');
}

/** Targets of inline links and images, and of reference definitions. */
function linkTargets(markdown: string): string[] {
  const text = withoutCode(markdown);
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const references = [...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]!);
  return [...inline, ...references];
}

function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#') && !target.startsWith('//');
}

/** README.md, SECURITY.md, docs/*.md, packages/*\/README.md and packages/*\/docs/*.md, relative to the root. */
function documents(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  const packages = readdirSync(join(root, 'packages')).flatMap((p) => {
    const packageDocs = join(root, 'packages', p, 'docs');
    const shipped = existsSync(packageDocs)
      ? readdirSync(packageDocs)
          .filter((f) => f.endsWith('.md'))
          .map((f) => `packages/${p}/docs/${f}`)
      : [];
    return [`packages/${p}/README.md`, ...shipped].filter((d) => existsSync(join(root, d)));
  });
  return ['README.md', 'SECURITY.md', ...docs, ...packages];
}

interface Manifest {
  readonly private?: boolean;
  readonly license?: string;
  readonly publishConfig?: { readonly access?: string; readonly provenance?: boolean };
}

/** The package.json of every published (not private) package, with its path from the root. */
function publishedManifests(): Array<{ path: string; manifest: Manifest }> {
  return readdirSync(join(root, 'packages'))
    .map((p) => `packages/${p}/package.json`)
    .filter((p) => existsSync(join(root, p)))
    .map((p) => ({ path: p, manifest: JSON.parse(read(p)) as Manifest }))
    .filter(({ manifest }) => manifest.private !== true);
}

/** The files `npm pack` would put in the package's tarball, relative to the package. */
function packedFiles(packageDir: string): string[] {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: packageDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(output) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
}

describe('the documents stay honest', () => {
  it('issue 13 §5: every test title cited in docs/threat-model.md exists in the named file', () => {
    const cited = citations(read('docs/threat-model.md'));
    expect(cited.length).toBeGreaterThanOrEqual(60);
    const problems: string[] = [];
    for (const { path, link, title } of cited) {
      if (resolve(root, 'docs', link) !== resolve(root, path)) problems.push(`${path}: the link goes to ${link}`);
      if (!existsSync(join(root, path))) {
        problems.push(`${path}: no such file`);
        continue;
      }
      if (!unescapedSource(read(path)).includes(title)) problems.push(`${path}: no test titled "${title}"`);
    }
    expect(problems).toEqual([]);
  });

  it('issue 13 §5: the threat model proves each protected property with at least one test', () => {
    const markdown = read('docs/threat-model.md');
    const protectedPart = markdown.slice(markdown.indexOf('## What Keystrata protects against'), markdown.indexOf('## What Keystrata does not protect against'));
    const sections = protectedPart.split(/^### /m).slice(1);
    expect(sections.length).toBeGreaterThanOrEqual(10);
    const untested = sections.filter((section) => citations(section).length === 0).map((section) => section.split('\n')[0]);
    expect(untested).toEqual([]);
  });

  it('issue 13 §5: every relative link in README.md, SECURITY.md, docs/*.md and packages/*/README.md resolves', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const document of documents()) {
      for (const target of linkTargets(read(document)).filter(isRelative)) {
        const path = decodeURIComponent(target.split('#')[0]!.split('?')[0]!);
        if (path === '') continue;
        checked++;
        const resolved = resolve(root, dirname(document), path);
        if (!existsSync(resolved)) broken.push(`${document}: ${target} (${relative(root, resolved)})`);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(60);
    expect(broken).toEqual([]);
  });

  it('issue 13 §5: LICENSE is the Apache License 2.0 text, unmodified, under a copyright line for The Keystrata authors', () => {
    const [copyright, ...rest] = read('LICENSE').split('\n');
    expect(copyright).toMatch(/^Copyright \d{4}(-\d{4})? The Keystrata authors$/);
    expect(createHash('sha256').update(rest.join('\n')).digest('hex')).toBe(APACHE_2_0_SHA256);
  });

  it('issue 13 §5: every published package declares Apache-2.0', () => {
    const manifests = publishedManifests();
    expect(manifests.length).toBeGreaterThanOrEqual(5);
    expect(manifests.filter(({ manifest }) => manifest.license !== 'Apache-2.0').map(({ path }) => path)).toEqual([]);
  });

  it('issue 13 §4: every published package publishes publicly with npm provenance (publishConfig)', () => {
    const manifests = publishedManifests();
    expect(manifests.length).toBeGreaterThanOrEqual(5);
    const without = manifests.filter(({ manifest }) => manifest.publishConfig?.access !== 'public' || manifest.publishConfig?.provenance !== true).map(({ path }) => path);
    expect(without).toEqual([]);
  });

  it("issue 13 §1: every relative link in a published package's markdown resolves to a file inside its npm tarball", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const { path } of publishedManifests()) {
      const packageDir = dirname(path);
      const shipped = packedFiles(join(root, packageDir));
      for (const document of shipped.filter((f) => f.endsWith('.md'))) {
        for (const target of linkTargets(read(`${packageDir}/${document}`)).filter(isRelative)) {
          const link = decodeURIComponent(target.split('#')[0]!.split('?')[0]!);
          if (link === '') continue;
          checked++;
          const inPackage = relative(join(root, packageDir), resolve(root, packageDir, dirname(document), link)).replaceAll('\\', '/');
          if (!shipped.some((f) => f === inPackage || f.startsWith(`${inPackage}/`))) broken.push(`${packageDir}/${document}: ${target}`);
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5);
    expect(broken).toEqual([]);
  });
});
