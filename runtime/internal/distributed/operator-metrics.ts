/**
 * The per-operator figures a stage worker task reports at each checkpoint
 * (WorkerMetrics.setOperators): for every stateful operator of the stage, its
 * name and uid, the late records it dropped, and the keyed state entries and
 * timers it holds in the task's job.
 *
 * In: a task's LocalJob and the manifest. Out: one row per stateful operator.
 */
import { traitsOf } from '../../api/node-traits.ts';
import type { LocalJob } from '../local/job.ts';
import type { Manifest } from '../manifest.ts';
import { operatorFields } from '../operators/names.ts';

/** One stateful operator's figures in a task. */
export interface OperatorFigures { operator: string; uid: string; lateDropped: number; stateEntries: number; timers: number }

/** The figures of the stateful operators of stage `stageId` in a task's job (none before the job exists). */
export function operatorFigures(job: LocalJob | null, manifest: Manifest, stageId: number): OperatorFigures[] {
  const runtime = job?.runtimes[stageId]?.[0];
  if (!job || !runtime) return [];
  return manifest.stages[stageId].nodes.filter((n) => traitsOf(manifest.nodes[n].kind as never).stateful).map((n) => ({
    ...operatorFields(manifest, n),
    lateDropped: job.counters.get(`${n}:droppedLateRecords`) ?? 0,
    stateEntries: runtime.backends.get(n)?.size ?? 0,
    timers: runtime.timers.get(n)?.size ?? 0,
  }));
}
