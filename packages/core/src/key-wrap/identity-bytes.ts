/**
 * `domain` then `parts` as one buffer: each string as a 4-byte big-endian UTF-8 length and its
 * bytes, each number as a 4-byte big-endian unsigned integer. Unambiguous: no two lists of names
 * give the same bytes.
 *
 * @example
 * ```ts
 * lengthPrefixed('keystrata/kek-binding/v1', 'default', 2);
 * ```
 */
export function lengthPrefixed(domain: string, ...parts: ReadonlyArray<string | number>): Buffer {
  const chunks: Buffer[] = [Buffer.from(domain, 'utf8')];
  for (const part of parts) {
    const head = Buffer.alloc(4);
    if (typeof part === 'number') {
      head.writeUInt32BE(part >>> 0);
      chunks.push(head);
    } else {
      const bytes = Buffer.from(part, 'utf8');
      head.writeUInt32BE(bytes.length);
      chunks.push(head, bytes);
    }
  }
  return Buffer.concat(chunks);
}
