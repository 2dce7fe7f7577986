/**
 * The state fields of a manifest node: what analyze found a stateful
 * operator keeps (3-analyze/state.ts), without the source locations that only
 * the compiler's diagnostics need.
 *
 * In: a node's OperatorState. Out: ManifestNode's `state` and `stateComplete`.
 */
import type { OperatorState } from '../../ir/analysis.ts';
import type { ManifestNode } from '../../../runtime/internal/manifest.ts';

/** `state` (and `stateComplete: false` when some state may be missing) for a stateful node; nothing for others. */
export function manifestStateOf(state: OperatorState | undefined): Pick<ManifestNode, 'state' | 'stateComplete'> {
  if (!state) return {};
  return { state: state.entries.map(({ at: _at, ...entry }) => entry), ...(state.complete ? {} : { stateComplete: false as const }) };
}
