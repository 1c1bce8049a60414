import { CONFIG_FILE, writeConfig } from '../config.js';
import type { Command } from '../context.js';
import { keyringFlag } from '../flags.js';

/** `keystrata init`: a CMK (in the HSM) and a first KEK for a keyring; SQLite key store by default. */
export const init: Command = {
  usage: 'init [--keyring default] [--database sqlite:.keystrata/keys.db|postgres://…|mongodb://…]',
  summary: 'Create a CMK and a first KEK for a keyring (idempotent).',
  async run(c) {
    let created: string | undefined;
    if (c.config.config.keyStore?.url === undefined) {
      const url = typeof c.flags.database === 'string' ? c.flags.database : 'sqlite:.keystrata/keys.db';
      writeConfig(c.config.file, { keyStore: { url } });
      created = url;
    }
    const hierarchy = await c.hierarchy();
    const keyring = keyringFlag(c) ?? hierarchy.defaultKeyring;
    const result = await hierarchy.provision(keyring);
    c.out.result(result, () =>
      [
        ...(created === undefined
          ? []
          : [
              `Key store ${created.startsWith('sqlite:') ? created : created.replace(/\/\/[^@/]*@/, '//…@')} written to ${CONFIG_FILE}. If your application already has a key store (e.g. MongoDB through @keystrata/mongoose), set keyStore.url to it instead: one key store per application.`,
            ]),
        `Keyring "${keyring}": CMK ${result.createdCmk ? 'created in the HSM' : 'already present'}, KEK ${result.createdKek ? 'created' : 'already present'}.`,
      ].join('\n'),
    );
  },
};
