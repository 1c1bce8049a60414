import type { AdapterState } from '../state.js';
import { groupBy } from '../group.js';
import { BlindIndexToken } from './index-token.js';

/**
 * Replaces the {@link BlindIndexToken}s among a query's parameters with their blind indexes
 * (one core call per field). Parameters without tokens are returned as they are.
 *
 * @example
 * ```ts
 * await resolveTokens(state, [token, 5]); // ['bi1.…', 5]
 * ```
 */
export async function resolveTokens(state: AdapterState, parameters: unknown[] | undefined): Promise<unknown[] | undefined> {
  if (parameters === undefined || !parameters.some((p) => p instanceof BlindIndexToken)) return parameters;
  const tokens = parameters.filter((p): p is BlindIndexToken => p instanceof BlindIndexToken);
  const indexes = new Map<BlindIndexToken, string>();
  for (const group of groupBy(tokens, (t) => `${t.model}\u0000${t.field}`).values()) {
    const values = await state.records.indexesFor(
      group[0]!.model,
      group[0]!.field,
      group.map((t) => t.value),
    );
    group.forEach((t, i) => {
      indexes.set(t, values[i]!);
    });
  }
  return parameters.map((p) => (p instanceof BlindIndexToken ? indexes.get(p) : p));
}
