import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { createSoftHsmToken } from '@keystrata/testing';

/** The profile runs need only a SoftHSM2 token (removed afterwards). */
export default function setup(project: TestProject): () => void {
  const token = createSoftHsmToken({ label: `keystrata-profile-${process.pid}` });
  project.provide('softhsm', token);
  return () => rmSync(token.directory, { recursive: true, force: true });
}
