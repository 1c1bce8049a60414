import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VariantName, WorkloadResult } from './harness.js';
import { PARTS_DIR } from './paths.js';

export type OrmName = 'prisma' | 'typeorm' | 'mongoose';

/** One ORM's results, written by its bench file and merged into latest.json. */
export interface OrmPart {
  readonly orm: OrmName;
  /** e.g. "Prisma 7.10.0 on SQLite". */
  readonly label: string;
  readonly status: 'ok' | 'gap';
  /** Why the ORM could not be measured (status gap). */
  readonly gap?: string;
  /** What each variant is for this ORM. */
  readonly variants: Readonly<Record<VariantName, string>>;
  /** KEK versions the keystrata variant's keys are wrapped under (W4's expected HSM calls). */
  readonly kekVersions: number;
  readonly database: string;
  readonly versions: Readonly<Record<string, string>>;
  readonly workloads: readonly WorkloadResult[];
  readonly durationMs: number;
  /** The core's AEAD path in this run (`hierarchy.stats().aead`, see report-issue16.ts `aeadPath`). */
  readonly aead?: string;
}

export function writePart(part: OrmPart): void {
  mkdirSync(PARTS_DIR, { recursive: true });
  writeFileSync(join(PARTS_DIR, `${part.orm}.json`), `${JSON.stringify(part, null, 2)}\n`);
}
