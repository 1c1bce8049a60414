import { decodeEnvelope } from '@keystrata/core/adapter';

export { envelopeDekId } from '@keystrata/core/adapter';

/** The `code` of the error a promise rejects with, `none` when it resolves. */
export async function codeOf(work: Promise<unknown>): Promise<string> {
  return work.then(
    () => 'none',
    (error: { code?: unknown }) => (typeof error?.code === 'string' ? error.code : `untyped: ${String(error)}`),
  );
}

/** Whether a stored envelope binds a record id into its AAD (header flag 0x01, docs/format.md). */
export function isRecordBound(envelope: unknown): boolean {
  return (decodeEnvelope(envelope).flags & 0x01) !== 0;
}

/** Makes the HSM unreachable for a stack: the PKCS#11 module is released and cached keys are dropped. */
export async function breakHsm(stack: { rootKey: { close(): Promise<void> }; keystrata: { hierarchy: { clearCache(): void } } }): Promise<void> {
  await stack.rootKey.close();
  stack.keystrata.hierarchy.clearCache();
}
