import type { DataSource, QueryRunner } from 'typeorm';
import { resolveTokens } from '../query/resolve-tokens.js';
import { stateOf } from '../state.js';

const WRAPPED = Symbol.for('keystrata.typeorm.query-runner');
type Call = (this: QueryRunner, sql: string, parameters?: unknown[], ...rest: unknown[]) => Promise<unknown>;

/**
 * Wraps `query` and `stream` of the DataSource's query-runner class (so runners created before the
 * install are covered too): blind-index tokens among the parameters are resolved just before the
 * SQL runs, for DataSources Keystrata is installed on.
 *
 * @example
 * ```ts
 * await wrapQueryRunners(dataSource);
 * ```
 */
export async function wrapQueryRunners(dataSource: DataSource): Promise<void> {
  const driver = dataSource.driver as unknown as { createQueryRunner(mode: 'master'): QueryRunner; queryRunner?: QueryRunner };
  const probe = driver.createQueryRunner('master');
  const proto = Object.getPrototypeOf(probe) as Record<string | symbol, unknown>;
  if (probe !== driver.queryRunner) await probe.release();
  if (proto[WRAPPED] === true) return;
  proto[WRAPPED] = true;
  for (const name of ['query', 'stream'] as const) {
    const original = proto[name] as Call | undefined;
    if (typeof original !== 'function') continue;
    proto[name] = async function (this: QueryRunner, sql: string, parameters?: unknown[], ...rest: unknown[]) {
      const state = stateOf(this.dataSource);
      return original.call(this, sql, state ? await resolveTokens(state, parameters) : parameters, ...rest);
    } satisfies Call;
  }
}
