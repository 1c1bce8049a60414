import { openPkcs11Members } from '../../src/index.js';
import { describeHierarchy } from '../hierarchy-behaviour.js';
import { sqliteStack } from '../stacks.js';
// @ts-expect-error: a plain .mjs helper shared with the child processes
import { createMemberToken, memberOptions } from './member-tokens.mjs';

/** Two SoftHSM2 members (own token directories), made once for the file; each stack opens a fresh root and key store. */
let tokens: unknown[] | undefined;

/** The SQLite stack of stacks.ts, over a root of two independent members instead of the run's token. */
function membersStack() {
  tokens ??= [createMemberToken('a'), createMemberToken('b')];
  return sqliteStack(() => openPkcs11Members({ kind: 'independent', members: tokens!.map((t) => memberOptions(t)) }));
}

describeHierarchy('a root of two independent SoftHSM2 members and SQLite (issue 14)', membersStack);
