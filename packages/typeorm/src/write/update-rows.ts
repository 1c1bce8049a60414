import { UpdateResult, type ObjectLiteral, type QueryRunner, type UpdateQueryBuilder } from 'typeorm';
import type { EntityInfo } from '../entity/entity-info.js';
import type { AdapterState } from '../state.js';
import { isSqlite, prepareSegments } from './prepare.js';
import { sealTargets, type SealTarget } from './seal.js';
import { segmentOf } from './ids.js';
import { updateTarget } from './targets.js';

type Row = Record<string, unknown>;

async function targetsOf(qb: UpdateQueryBuilder<ObjectLiteral>, runner: QueryRunner, state: AdapterState, info: EntityInfo) {
  const current = (await qb.clone().select(qb.expressionMap.mainAlias!.name).setQueryRunner(runner).getMany()) as Row[];
  const set = qb.expressionMap.valuesSet as Row;
  return { current, targets: current.map((row) => updateTarget(state, info, { ...set }, row, 'all')) };
}

const segmentsOf = (state: AdapterState, info: EntityInfo, targets: readonly SealTarget[]) =>
  targets.flatMap((t) => {
    const segment = segmentOf(state, info, t.record);
    return segment === undefined ? [] : [{ segment, keyring: state.keyringOf(info.model, t.record) }];
  });

/**
 * Runs an update of encrypted fields row by row, in one transaction: selects the matching rows
 * with the update's own WHERE (decrypted, so values can move to a new segment), encrypts the new
 * values for each row's id and segment, and updates each row by primary key (WHERE kept). On
 * SQLite the segments' DEKs are created before the transaction takes the write lock.
 *
 * @example
 * ```ts
 * const result = await updateRowByRow(qb, state, info); // result.affected
 * ```
 */
export async function updateRowByRow(qb: UpdateQueryBuilder<ObjectLiteral>, state: AdapterState, info: EntityInfo): Promise<UpdateResult> {
  const given = (qb as unknown as { queryRunner?: QueryRunner }).queryRunner;
  const runner = given ?? qb.dataSource.createQueryRunner();
  const ownTransaction = !runner.isTransactionActive;
  try {
    if (ownTransaction && isSqlite(state)) await prepareSegments(state, segmentsOf(state, info, (await targetsOf(qb, runner, state, info)).targets));
    if (ownTransaction) await runner.startTransaction();
    const { current, targets } = await targetsOf(qb, runner, state, info);
    await sealTargets(state, info, targets);
    let affected = 0;
    for (const [i, t] of targets.entries()) {
      const one = qb.clone().set(t.row).setQueryRunner(runner).andWhereInIds(info.metadata.getEntityIdMap(current[i]!));
      affected += (await one.execute()).affected ?? 0;
    }
    if (ownTransaction) await runner.commitTransaction();
    return Object.assign(new UpdateResult(), { raw: [], affected });
  } catch (error) {
    if (ownTransaction && runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    if (given === undefined) await runner.release();
  }
}
