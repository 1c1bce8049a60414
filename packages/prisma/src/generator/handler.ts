import type { GeneratorManifest, GeneratorOptions } from '@prisma/generator-helper';
import { buildFieldMap } from './build-field-map.js';
import type { DmmfModelLike } from './dmmf.js';
import { writeFieldMap } from './emit.js';

/**
 * The Prisma generator behind the `keystrata-prisma` bin: reads `/// @encrypted` annotations
 * from the DMMF and writes the field map into the generator block's `output`.
 *
 * @example
 * ```ts
 * import helper from '@prisma/generator-helper';
 * helper.generatorHandler(keystrataGenerator);
 * ```
 */
export const keystrataGenerator = {
  onManifest(): GeneratorManifest {
    return { prettyName: 'Keystrata field map', defaultOutput: './generated/keystrata' };
  },
  async onGenerate(options: GeneratorOptions): Promise<void> {
    const output = options.generator.output?.value;
    if (!output) throw new Error('keystrata-prisma: the generator block needs an `output` directory.');
    writeFieldMap(output, buildFieldMap(options.dmmf.datamodel.models as readonly DmmfModelLike[], options.datamodel));
  },
};
