const LOADED = Symbol('keystrata.loadedSegment');

type Marked = { [LOADED]?: string | undefined };

/**
 * The segment a hydrated document had when it was read, to notice a segment change on save;
 * undefined when it could not be told (segment inputs not selected) or the document was not read.
 * Kept on the document under a private symbol: cheaper per document than a WeakMap entry.
 *
 * @example
 * ```ts
 * loadedSegment(await Patient.findOne()); // 'tenantId:acme'
 * ```
 */
export function loadedSegment(doc: object): string | undefined {
  return (doc as Marked)[LOADED];
}

/**
 * Records (or, with undefined, forgets) the segment a document was read in.
 *
 * @example
 * ```ts
 * rememberSegment(doc, 'tenantId:acme');
 * ```
 */
export function rememberSegment(doc: object, segment: string | undefined): void {
  (doc as Marked)[LOADED] = segment;
}
