#!/usr/bin/env node
// A minimal Prisma generator: writes the generator DMMF (with `///` documentation, isId, isUnique,
// isList) to JSON, for prisma-field-encryption's `fieldEncryptionExtension({ dmmf })` on Prisma 7.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import helper from '@prisma/generator-helper';

helper.generatorHandler({
  onManifest: () => ({ prettyName: 'bench DMMF dump', defaultOutput: './dmmf.json' }),
  async onGenerate(options) {
    const out = options.generator.output?.value;
    if (!out) throw new Error('bench-dump-dmmf: the generator block needs an `output` file.');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ datamodel: options.dmmf.datamodel }));
  },
});
