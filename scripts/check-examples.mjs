#!/usr/bin/env node
// Every symbol exported from a published package's public entry points (the `src/` files behind its package.json
// `exports` map) has a JSDoc `@example` at its declaration (docs/conventions.md): every export, types included
// (functions, classes, constants, interfaces, type aliases). Internal modules are not checked.
// Exits 1 listing the exports without one. Run by `pnpm lint`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;
const packagesDir = join(root, 'packages');

/** The `src/*.ts` entry files of every published (not private) package, from its `exports` map. */
function publicEntries() {
  const entries = [];
  for (const name of readdirSync(packagesDir)) {
    const manifestPath = join(packagesDir, name, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.private) continue;
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      if (subpath === './package.json') continue;
      const built = typeof target === 'string' ? target : (target.import?.default ?? target.default);
      const source = join(packagesDir, name, built.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
      if (!existsSync(source)) throw new Error(`check-examples: ${name} exports ${subpath} from ${built}, but ${relative(root, source)} does not exist.`);
      entries.push(source);
    }
  }
  return entries;
}

const entries = publicEntries();
const program = ts.createProgram(entries, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, allowJs: false, noEmit: true });
const checker = program.getTypeChecker();

/** The declaration a JSDoc belongs to (a variable's JSDoc sits on its statement). */
const documented = (declaration) => (ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration);
const hasExample = (declaration) =>
  ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === 'example') || ts.getJSDocTags(documented(declaration)).some((tag) => tag.tagName.text === 'example');

const missing = new Map();
let checked = 0;
for (const entry of entries) {
  const file = program.getSourceFile(entry);
  const moduleSymbol = file && checker.getSymbolAtLocation(file);
  if (!moduleSymbol) continue;
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declarations = (symbol.declarations ?? []).filter((d) => !d.getSourceFile().isDeclarationFile);
    if (declarations.length === 0) continue; // re-exported from a dependency: checked in its own package
    const declaration = declarations[0];
    const where = `${relative(root, declaration.getSourceFile().fileName)}:${declaration.getSourceFile().getLineAndCharacterOfPosition(declaration.getStart()).line + 1}`;
    if (missing.has(where)) continue;
    checked++;
    if (!declarations.some(hasExample)) missing.set(where, `${exported.name} (from ${relative(root, entry)})`);
  }
}

if (missing.size > 0) {
  console.error(`check-examples: ${missing.size} public export(s) without a JSDoc @example at their declaration:`);
  for (const [where, what] of missing) console.error(`  ${where}  ${what}`);
  process.exit(1);
}
console.log(`check-examples: ${checked} public exports from ${entries.length} entry points, each with an @example.`);
