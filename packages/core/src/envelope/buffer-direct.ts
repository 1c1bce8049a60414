/**
 * The methods `Buffer#write(text, at, 'utf8')` and `Buffer#toString(encoding, start, end)` end in,
 * without their per-call argument parsing (half the cost of a short string).
 */
interface DirectMethods {
  utf8Write(text: string, offset: number): number;
  utf8Slice(start: number, end: number): string;
  base64urlSlice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
  base64urlWrite(text: string, offset: number, length: number): number;
}
/** Node's Buffers have them (undocumented, but what `write` and `toString` call); anything else gets the public methods. */
const prototype = Buffer.prototype as Partial<DirectMethods>;
const direct =
  typeof prototype.utf8Write === 'function' &&
  typeof prototype.utf8Slice === 'function' &&
  typeof prototype.base64urlSlice === 'function' &&
  typeof prototype.hexSlice === 'function' &&
  typeof prototype.base64urlWrite === 'function';

/**
 * Writes `text` as UTF-8 at `target[at…]` (which has 3 × its length free) and returns the byte
 * count: the same bytes as `target.write(text, at, 'utf8')`, without its per-call argument parsing.
 *
 * @example
 * ```ts
 * const length = writeUtf8(batch, at, 'p_1');
 * ```
 */
export function writeUtf8(target: Buffer, at: number, text: string): number {
  return direct ? (target as Buffer & DirectMethods).utf8Write(text, at) : target.write(text, at, 'utf8');
}

/**
 * `bytes.toString('utf8', start, end)` for `0 <= start <= end <= bytes.length`, without its
 * argument parsing.
 *
 * @example
 * ```ts
 * const text = readUtf8(output, at + 1, end);
 * ```
 */
export function readUtf8(bytes: Buffer, start: number, end: number): string {
  return direct ? (bytes as Buffer & DirectMethods).utf8Slice(start, end) : bytes.toString('utf8', start, end);
}

/**
 * `bytes.toString('base64url', start, end)` for `0 <= start <= end <= bytes.length`, without its
 * argument parsing.
 *
 * @example
 * ```ts
 * const text = ENVELOPE_PREFIX + base64url(batch, bodyAt, bodyEnd);
 * ```
 */
export function base64url(bytes: Buffer, start: number, end: number): string {
  return direct ? (bytes as Buffer & DirectMethods).base64urlSlice(start, end) : bytes.toString('base64url', start, end);
}

/**
 * `bytes.toString('hex', start, end)` for `0 <= start <= end <= bytes.length`, without its
 * argument parsing.
 *
 * @example
 * ```ts
 * const dekId = hex(body, 2, HEADER_LENGTH);
 * ```
 */
export function hex(bytes: Buffer, start: number, end: number): string {
  return direct ? (bytes as Buffer & DirectMethods).hexSlice(start, end) : bytes.toString('hex', start, end);
}

/**
 * `target.write(text, at, 'base64url')`: decodes base64url (Node's lenient decoder: check the
 * result) into `target[at…]`, without its argument parsing. Returns the bytes written.
 *
 * @example
 * ```ts
 * const length = writeBase64url(batch, at, encoded);
 * ```
 */
export function writeBase64url(target: Buffer, at: number, text: string): number {
  return direct ? (target as Buffer & DirectMethods).base64urlWrite(text, at, target.length - at) : target.write(text, at, 'base64url');
}
