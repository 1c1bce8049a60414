import type { KeystrataRuntime } from '../extension/runtime.js';
import type { SelectionPlan } from '../query/plan.js';
import type { Row } from '../util/plain.js';
import { collectRecords } from './collect.js';
import { assertNoEnvelope } from './envelope-guard.js';
import { stripAdded } from './strip.js';

/**
 * Decrypts every encrypted field in a query result (nested relations included, in one batch), strips the fields added for decryption, and checks no envelope is left.
 *
 * @example
 * ```ts
 * await decryptResult(rt, 'User', users, plan, 'User.findMany');
 * ```
 */
export async function decryptResult(rt: KeystrataRuntime, model: string, result: unknown, plan: SelectionPlan, label: string): Promise<void> {
  const byModel = new Map<string, Row[]>();
  collectRecords(rt, model, result, byModel);
  await rt.records.decryptGroups([...byModel].map(([name, rows]) => ({ model: name, rows })));
  stripAdded(rt, model, result, plan);
  assertNoEnvelope(result, label);
}
