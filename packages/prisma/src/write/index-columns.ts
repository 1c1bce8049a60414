import type { KeystrataRuntime } from '../extension/runtime.js';
import { unsupported } from '../query/unsupported.js';
import type { Row } from '../util/plain.js';

/**
 * Refuses writes that set a blind-index column by hand (any value, also `null`, also beside its
 * plaintext field): Keystrata fills it from the plaintext, so a hand-written value would make
 * lookups lie (issue 12).
 *
 * @example
 * ```ts
 * refuseIndexWrites(rt, 'Patient', { emailIndex: 'x' }); // throws QUERY_UNSUPPORTED
 * ```
 */
export function refuseIndexWrites(rt: KeystrataRuntime, model: string, data: Row): void {
  for (const spec of rt.model(model)?.encrypted ?? []) {
    if (spec.index !== undefined && data[spec.index] !== undefined) {
      throw unsupported(`${model}.${spec.index} is the blind index of ${spec.field}; only Keystrata writes it: remove ${spec.index} from the data and write ${spec.field} alone. Nothing was written.`);
    }
  }
}
