import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { KeyHierarchy } from '@keystrata/core';
import { loadConfig, main as keystrataCli, openHierarchy } from '@keystrata/cli';
import { keyringOf, TENANTS } from './data.js';
import { clinicPrisma, type ClinicPrisma } from './prisma.js';
import { migrate } from './sqlite-raw.js';

/** Everything the story and the web page share: one SQLite file holding data and keys. */
export interface Clinic {
  readonly dir: string;
  readonly file: string;
  readonly configFile: string;
  readonly hierarchy: KeyHierarchy;
  readonly db: ClinicPrisma;
  /** The same client, showing unreadable values as placeholders instead of throwing. */
  readonly lenientDb: ClinicPrisma;
  /** Runs a `keystrata` CLI command against this clinic's config; returns its output. */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

const migration = () => readFileSync(fileURLToPath(new URL('../../migrations/001_clinic.sql', import.meta.url)), 'utf8');

async function runCli(configFile: string, args: string[]) {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const code = await keystrataCli([...args, '--config', configFile], { stdin: process.stdin, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  return { code, stdout, stderr };
}

/**
 * Provisions the clinic in `dir` with the `keystrata` CLI (a SoftHSM2 token in the directory, a
 * CMK per tenant, the key store inside the clinic's SQLite file) and opens the application's view.
 */
export async function openClinic(dir: string): Promise<Clinic> {
  const file = join(dir, 'clinic.db');
  const configFile = join(dir, 'keystrata.config.json');
  const cli = (args: string[]) => runCli(configFile, args);
  migrate(file, migration());
  for (const args of [['hsm', 'init-dev'], ['init', '--database', 'sqlite:clinic.db'], ...TENANTS.map((t) => ['init', '--keyring', keyringOf(t)])]) {
    const result = await cli(args);
    if (result.code !== 0) throw new Error(`keystrata ${args.join(' ')} failed: ${result.stderr}`);
  }
  const hierarchy = await openHierarchy(loadConfig(configFile));
  const db = clinicPrisma(file, hierarchy);
  const lenientDb = clinicPrisma(file, hierarchy, 'placeholder');
  return {
    dir,
    file,
    configFile,
    hierarchy,
    db,
    lenientDb,
    cli,
    async close() {
      await db.$disconnect();
      await lenientDb.$disconnect();
      await hierarchy.close();
    },
  };
}
