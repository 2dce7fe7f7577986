/**
 * The diagnostics of an evaluation that built no graph or left something
 * open: PC1006 (no pipeline export), PC1007 (a throw, a crash, process.exit),
 * PC1110 (time limit) and PC1111 (a timer, socket or server left open).
 *
 * In: an Evaluation and a way to locate bundle frames. Out: Diagnostic[].
 */
import type { StackPosition } from '../../../runtime/api/graph.ts';
import { diagnostics, NO_LOCATION, type Diagnostic, type DiagnosticLocation } from '../../diagnostics/index.ts';
import { framesOf } from './positions.ts';
import type { Evaluation, EvaluationStage, OpenResource } from './protocol.ts';

/** Readable names for process.getActiveResourcesInfo() types. */
const RESOURCE_NAMES: Record<string, string> = {
  Timeout: 'a Timeout', Immediate: 'an Immediate', TCPSocketWrap: 'a TCP socket', TCPServerWrap: 'a server',
  PipeWrap: 'a pipe', PipeServerWrap: 'a pipe server', UDPWrap: 'a UDP socket', ProcessWrap: 'a child process',
  FSEventWrap: 'a file watcher', StatWatcher: 'a file watcher', SignalWrap: 'a signal listener', TTYWrap: 'a terminal stream', Worker: 'a worker thread',
};

const STAGE_WORDS: Record<EvaluationStage, { what: string; when: string }> = {
  load: { what: 'Loading the pipeline module', when: 'at load time' },
  build: { what: 'The build function', when: 'in its build function' },
};

/** `A Timeout (setInterval)`, `A server (Server.listen)`. */
function describeResource(resource: OpenResource): string {
  const what = RESOURCE_NAMES[resource.type] ?? `a ${resource.type}`;
  const text = resource.api ? `${what} (${resource.api})` : what;
  return text[0].toUpperCase() + text.slice(1);
}

/** How to place a diagnostic: `construct` widens the user's frame to the call or loop that starts there. */
export type Locate = (frames: readonly StackPosition[], widen?: 'construct') => DiagnosticLocation | null;

/** Diagnostics for an evaluation; none for a graph that was built and left nothing open. `fileStart` is used where nothing better is known. */
export function evaluationDiagnostics(evaluation: Evaluation, locate: Locate, fileStart: DiagnosticLocation): Diagnostic[] {
  switch (evaluation.kind) {
    case 'threw':
      return [diagnostics.buildFunctionThrew(locate(framesOf(evaluation.stack)) ?? NO_LOCATION, { error: evaluation.message })];
    case 'stopped':
      return [diagnostics.buildFunctionThrew(fileStart, { error: `evaluating the pipeline module ${evaluation.reason}` })];
    case 'timed-out': {
      const location = locate(evaluation.frames, 'construct');
      const limit = evaluation.limitMs % 1000 === 0 ? `${evaluation.limitMs / 1000} s` : `${evaluation.limitMs} ms`;
      return [diagnostics.planTimedOut(location ?? fileStart, { what: STAGE_WORDS[evaluation.stage].what, limit, where: location ? 'here' : 'before it returned' })];
    }
    case 'no-pipeline-export':
    case 'planned': {
      const open = evaluation.open.map((resource) => diagnostics.resourceLeftOpen(
        locate(resource.frames, 'construct') ?? fileStart,
        { resource: describeResource(resource), when: STAGE_WORDS[resource.stage].when },
      ));
      return evaluation.kind === 'no-pipeline-export' ? [...open, diagnostics.noPipelineExport(fileStart, {})] : open;
    }
  }
}
