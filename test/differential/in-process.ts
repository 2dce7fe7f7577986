/**
 * One program, two ways, in this process: the reference interpreter and the
 * compiler through `pipec/testing` (testPipeline: type-check, plan, generate,
 * load the stage modules, feed the sources, finish). Used inside a worker
 * thread (in-process-worker.ts) so a miscompiled program that loops forever
 * can be stopped.
 *
 * In: a program file and its sources' items. Out: each sink's records as
 * canonical texts, for the reference and for pipec, or how each failed.
 */
import { testPipeline } from '../../runtime/testing/index.ts';
import { loadReference, runReference } from './reference/interpreter.ts';
import { canonical, copyRecord } from './values.ts';

/** What one side produced: canonical texts per sink (arrival order), or an error. */
export type SideResult = { ok: true; sinks: string[][] } | { ok: false; kind: 'build' | 'crash'; message: string };

/** The reference's and pipec's results for one program file. */
export interface InProcessResult { reference: SideResult; pipec: SideResult }

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}\n${(error.stack ?? '').split('\n').slice(1, 6).join('\n')}` : String(error);
}

/** Runs the reference interpreter and pipec's in-process harness on a program file. */
export async function runInProcess(file: string, items: unknown[][], workDir: string): Promise<InProcessResult> {
  let reference: SideResult;
  try {
    const definition = await loadReference(file, workDir);
    reference = { ok: true, sinks: runReference(definition, items.map((list) => list.map(copyRecord))).map((sink) => sink.map(canonical)) };
  } catch (error) {
    reference = { ok: false, kind: 'crash', message: errorText(error) };
  }
  let pipec: SideResult;
  let job;
  try {
    job = await testPipeline(file);
  } catch (error) {
    return { reference, pipec: { ok: false, kind: 'build', message: errorText(error) } };
  }
  try {
    items.forEach((list, i) => job.source(i).push(...list.map(copyRecord)));
    await job.finish();
    const sinkCount = job.graph.nodes.filter((n) => n.kind === 'sink').length;
    // Texts are taken only now: a record a sink received and someone changed later shows up changed.
    pipec = { ok: true, sinks: Array.from({ length: sinkCount }, (_, i) => job.sink(i).values().map(canonical)) };
  } catch (error) {
    pipec = { ok: false, kind: 'crash', message: errorText(error) };
  }
  return { reference, pipec };
}
