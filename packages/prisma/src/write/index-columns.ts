import type { KeystrataRuntime } from '../extension/runtime.js';
import { unsupported } from '../query/unsupported.js';
import type { Row } from '../util/plain.js';

/**
 * Refuses writes that set a blind-index column by hand: Keystrata fills it from the plaintext,
 * so a hand-written value would make lookups lie.
 *
 * @example
 * ```ts
 * refuseIndexWrites(rt, 'Patient', { emailIndex: 'x' }); // throws QUERY_UNSUPPORTED
 * ```
 */
export function refuseIndexWrites(rt: KeystrataRuntime, model: string, data: Row): void {
  for (const spec of rt.model(model)?.encrypted ?? []) {
    if (spec.index !== undefined && data[spec.index] !== undefined && data[spec.field] === undefined) {
      throw unsupported(`${model}.${spec.index} is the blind index of ${spec.field}; Keystrata maintains it: write ${spec.field} instead.`);
    }
  }
}
