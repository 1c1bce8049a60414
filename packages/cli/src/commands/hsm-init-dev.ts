import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { KeystrataError, initialisePkcs11Token } from '@keystrata/core';
import { writeConfig } from '../config.js';
import type { Command } from '../context.js';
import { flag } from '../flags.js';
import { findSoftHsmModule } from '../softhsm.js';

/** `keystrata hsm init-dev`: a SoftHSM2 token in a project-local directory, for development and demos. */
export const hsmInitDev: Command = {
  usage: 'hsm init-dev [--label keystrata-dev] [--dir .keystrata]',
  summary: 'Create a development SoftHSM2 token in this directory (own SOFTHSM2_CONF, random PIN in a 0600 file).',
  async run(c) {
    const module = findSoftHsmModule();
    if (module === undefined) throw new KeystrataError('HSM_UNAVAILABLE', 'SoftHSM2 is not installed (Debian: apt-get install softhsm2; macOS: brew install softhsm).');
    const dir = join(c.config.dir, flag(c, 'dir') ?? '.keystrata');
    const label = flag(c, 'label') ?? 'keystrata-dev';
    const tokens = join(dir, 'tokens');
    const conf = join(dir, 'softhsm2.conf');
    const pinFile = join(dir, 'dev.pin');
    mkdirSync(tokens, { recursive: true, mode: 0o700 });
    writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    const created = !(existsSync(pinFile) && readdirSync(tokens).length > 0);
    if (created) {
      const pin = randomBytes(12).toString('base64url');
      const soPin = randomBytes(12).toString('base64url');
      writeFileSync(pinFile, `${pin}\n`, { mode: 0o600 });
      writeFileSync(join(dir, 'dev.so-pin'), `${soPin}\n`, { mode: 0o600 });
      // Through the PKCS#11 API (C_InitToken, C_InitPIN): never a PIN on a command line.
      await initialisePkcs11Token({ module, moduleEnvironment: { SOFTHSM2_CONF: conf }, label, soPin, userPin: pin });
    }
    const rel = (path: string) => relative(c.config.dir, path) || '.';
    writeConfig(c.config.file, { hsm: { module, tokenLabel: label, pin: { file: rel(pinFile) }, softhsm2Conf: rel(conf) } });
    const result = { created, tokenLabel: label, module, softhsm2Conf: conf, pinFile, config: c.config.file };
    c.out.result(result, () => `${created ? 'Created' : 'Kept existing'} SoftHSM2 token "${label}" in ${rel(tokens)}; PIN in ${rel(pinFile)} (dev only); config ${rel(c.config.file)}`);
  },
};
