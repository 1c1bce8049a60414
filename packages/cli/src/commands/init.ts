import { writeConfig } from '../config.js';
import type { Command } from '../context.js';
import { keyringFlag } from '../flags.js';

/** `keystrata init`: a CMK (in the HSM) and a first KEK for a keyring; SQLite key store by default. */
export const init: Command = {
  usage: 'init [--keyring default] [--database sqlite:.keystrata/keys.db|postgres://…]',
  summary: 'Create a CMK and a first KEK for a keyring (idempotent).',
  async run(c) {
    if (c.config.config.keyStore?.url === undefined) {
      const url = typeof c.flags.database === 'string' ? c.flags.database : 'sqlite:.keystrata/keys.db';
      writeConfig(c.config.file, { keyStore: { url } });
    }
    const hierarchy = await c.hierarchy();
    const keyring = keyringFlag(c) ?? hierarchy.defaultKeyring;
    const result = await hierarchy.provision(keyring);
    c.out.result(result, () => `Keyring "${keyring}": CMK ${result.createdCmk ? 'created in the HSM' : 'already present'}, KEK ${result.createdKek ? 'created' : 'already present'}.`);
  },
};
