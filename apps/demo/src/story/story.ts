import type { StepScope } from './report.js';
import type { StoryState } from './state.js';
import { mongoose, prisma, provision, typeorm } from './steps-1-4.js';
import { audit, rotateRoots, rotateSegment, shred } from './steps-5-8.js';

/** The clinic story, in order; each step relies on the ones before it. */
export const STEPS: ReadonlyArray<{ readonly title: string; readonly run: (s: StoryState, out: StepScope) => Promise<void> }> = [
  { title: 'Provision: a SoftHSM2 token, a CMK per tenant, KEKs', run: provision },
  { title: 'Prisma on SQLite: patients with nested visits, lookup by e-mail', run: prisma },
  { title: 'TypeORM on the same database: read what Prisma wrote, update, Prisma reads it back', run: typeorm },
  { title: 'Mongoose on FerretDB (or MONGODB_URI): the same operations', run: mongoose },
  { title: 'Rotate the CMK and a KEK: everything still reads, new writes use the new versions', run: rotateRoots },
  { title: "Rotate one segment's DEK: its rows are re-encrypted", run: rotateSegment },
  { title: 'Crypto-shred one patient: destroy their DEK', run: shred },
  { title: 'Verify the audit trail; an edited audit row is detected', run: audit },
];
