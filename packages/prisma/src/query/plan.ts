/**
 * What Keystrata added to a selection so values can be decrypted (the record id and segment
 * field), per relation level; those keys are removed from results again.
 *
 * @example
 * ```ts
 * const plan: SelectionPlan = { added: ['tenantId'], children: { posts: { added: [], children: {} } } };
 * ```
 */
export interface SelectionPlan {
  readonly added: string[];
  readonly children: Record<string, SelectionPlan>;
}

/**
 * An empty {@link SelectionPlan}.
 *
 * @example
 * ```ts
 * const plan = emptyPlan();
 * ```
 */
export function emptyPlan(): SelectionPlan {
  return { added: [], children: {} };
}

/**
 * The plan of the value a fluent read returns: `dataPath` is `['select', 'posts', …]`.
 *
 * @example
 * ```ts
 * planAt(plan, ['select', 'posts']); // plan.children.posts
 * ```
 */
export function planAt(plan: SelectionPlan, dataPath: readonly string[]): SelectionPlan {
  let current: SelectionPlan | undefined = plan;
  for (let i = 1; i < dataPath.length && current !== undefined; i += 2) current = current.children[dataPath[i]!];
  return current ?? emptyPlan();
}
