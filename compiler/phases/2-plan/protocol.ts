/**
 * What crosses between the plan phase, the evaluator process that supervises
 * (supervisor.ts) and the worker thread in it that evaluates the pipeline
 * module (evaluator.ts): plain data. Functions and connector objects stay in
 * the worker; the plan only needs their summaries. Messages are structured
 * clones (IPC with advanced serialization), so Infinity, NaN and undefined in
 * settings arrive as they were.
 */
import type { PipelineOptions, StackPosition } from '../../../runtime/api/graph.ts';
import type { LogicalNode } from '../../ir/logical-plan.ts';

/** Which part of the pipeline module was running: its top level, or the function passed to pipeline(...). */
export type EvaluationStage = 'load' | 'build';

/** The one message the plan phase sends the evaluator process, and the supervisor passes on to its worker. */
export interface EvaluateRequest { bundleFile: string; timeLimitMs: number }

/** A node of the built graph: its LogicalNode (site not yet known) and the stack of the DSL call that created it. */
export interface EvaluatedNode { node: LogicalNode; frames: StackPosition[] | null }

/** A timer, socket, server... that the module opened and left keeping the event loop alive. */
export interface OpenResource {
  /** Node's name for it, as in process.getActiveResourcesInfo(): `Timeout`, `TCPServerWrap`... */
  type: string;
  /** The Node API that created it, when known: `setInterval`, `Server.listen`. */
  api: string | null;
  stage: EvaluationStage;
  /** Where it was created (bundle positions), innermost first; empty when unknown. */
  frames: StackPosition[];
}

/** What the worker sends its supervisor: `started-build` once the module has loaded, then one final message. */
export type WorkerMessage = { kind: 'started-build' } | EvaluatorMessage;

/** The worker's final answer. */
export type EvaluatorMessage =
  | { kind: 'planned'; name: string; options: PipelineOptions; nodes: EvaluatedNode[]; open: OpenResource[] }
  | { kind: 'no-pipeline-export'; open: OpenResource[] }
  | { kind: 'threw'; stage: EvaluationStage; message: string; stack: string };

/** The outcome of evaluating the module (the one IPC message the evaluator process sends): the worker's answer, or how it was stopped. */
export type Evaluation =
  | EvaluatorMessage
  /** The time limit passed; `frames` is where the module was stopped (empty if the inspector could not pause it). */
  | { kind: 'timed-out'; stage: EvaluationStage; limitMs: number; frames: StackPosition[] }
  /** The process ended without answering: process.exit() in user code, out of memory, a crash. */
  | { kind: 'stopped'; reason: string };
