import { KeystrataError } from '@keystrata/core';
import type { Command, CommandContext } from '../context.js';
import { flag, keyringFlag, parseContext, requireFlag } from '../flags.js';

async function readStdin(c: CommandContext): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of c.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

function fieldContext(c: CommandContext, segment: string | undefined) {
  const keyring = keyringFlag(c);
  return { ...parseContext(requireFlag(c, 'context')), ...(segment ? { segment } : {}), ...(keyring ? { keyring } : {}) };
}

/** `keystrata encrypt`: stdin (UTF-8 text, as is) to an envelope on stdout. */
export const encrypt: Command = {
  usage: 'encrypt --context <model.field[#id]> [--segment <id>] [--keyring <k>]',
  summary: 'Encrypt stdin to a ks1 envelope on stdout.',
  async run(c) {
    const text = (await readStdin(c)).toString('utf8');
    const ciphertext = await (await c.hierarchy()).encryptValue(text, fieldContext(c, flag(c, 'segment') ?? 'default'));
    if (c.out.json) c.out.result({ ciphertext });
    else c.stdout.write(`${ciphertext}\n`);
  },
};

/** `keystrata decrypt`: an envelope on stdin to its plaintext on stdout. */
export const decrypt: Command = {
  usage: 'decrypt --context <model.field[#id]> [--segment <id>]',
  summary: 'Decrypt a ks1 envelope from stdin (checks the segment when given).',
  async run(c) {
    const ciphertext = (await readStdin(c)).toString('utf8').trim();
    if (ciphertext === '') throw new KeystrataError('CIPHERTEXT_MALFORMED', 'stdin was empty.');
    const value = await (await c.hierarchy()).decryptValue(ciphertext, fieldContext(c, flag(c, 'segment')));
    if (c.out.json) c.out.result({ value });
    else c.stdout.write(typeof value === 'string' ? value : JSON.stringify(value));
  },
};
