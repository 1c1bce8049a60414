#!/usr/bin/env node
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openClinic } from '../clinic/clinic.js';
import { demoArgs } from '../demo-args.js';
import { StoryRunner } from '../story/report.js';
import { prisma } from '../story/steps-1-4.js';
import { clinicServer } from './server.js';

const { values } = parseArgs({ args: demoArgs(), options: { port: { type: 'string' }, 'db-dir': { type: 'string' } } });
const dir = values['db-dir'] ? resolve(values['db-dir']) : mkdtempSync(resolve(tmpdir(), 'keystrata-web-'));
const clinic = await openClinic(dir);
// Seed the clinic with the story's patients (step 2, quietly).
await new StoryRunner(undefined).step(2, 'seed', (out) => prisma({ clinic, ids: new Map(), progress: () => {} }, out));
const server = clinicServer(clinic);
server.listen(Number(values.port ?? process.env.PORT ?? 4310), '127.0.0.1', () => {
  const address = server.address();
  console.log(`Keystrata clinic on http://127.0.0.1:${typeof address === 'object' && address ? address.port : ''}/  (Ctrl-C to stop)`);
});
const stop = async () => {
  server.close();
  await clinic.close();
  if (!values['db-dir']) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
