/**
 * Finds what a piece of user code left open: timers, sockets, servers, child
 * processes... anything that keeps the event loop alive after the code ran.
 * Runs inside the evaluation worker. `process.getActiveResourcesInfo()` before
 * and after says what is open; an async hook records where each resource was
 * created, so a diagnostic can name the call (`setInterval`) and its line.
 *
 * In: a stage of user code to watch. Out: OpenResource[] (bundle positions).
 */
import { createHook } from 'node:async_hooks';
import { callSites, positionOf, type StackPosition } from '../../../runtime/api/graph.ts';
import type { EvaluationStage, OpenResource } from './protocol.ts';

/** getActiveResourcesInfo() names of handles that keep a process running, with the async-hook type of the same resource. */
const HOOK_TYPE_OF: Record<string, string> = {
  Timeout: 'Timeout', Immediate: 'Immediate', TCPSocketWrap: 'TCPWRAP', TCPServerWrap: 'TCPSERVERWRAP',
  PipeWrap: 'PIPEWRAP', PipeServerWrap: 'PIPESERVERWRAP', UDPWrap: 'UDPWRAP', ProcessWrap: 'PROCESSWRAP',
  FSEventWrap: 'FSEVENTWRAP', StatWatcher: 'STATWATCHER', SignalWrap: 'SIGNALWRAP', TTYWrap: 'TTYWRAP', Worker: 'WORKER',
};

/** Names of one pending request (a file read, a DNS lookup), which ends by itself, but may open a handle when it does (listen(port, host)). */
const PENDING_REQUEST = /(?:Req|ReqWrap|ReqCallback|Request|WriteWrap|ShutdownWrap|FileHandle)$/;
/** The worker's own stdio and parent port. */
const OWN = new Set(['MessagePort']);
/** How long to let pending requests finish before judging what is open. */
const SETTLE_MS = 250;

interface Created { type: string; resource: { hasRef?: () => boolean; _destroyed?: boolean }; api: string | null; frames: StackPosition[] }

/** Where a resource is being created: the outermost Node API frame (its name) and the frames above it in the user's bundle. */
function creationSite(): { api: string | null; frames: StackPosition[] } {
  const sites = callSites(40);
  // The stack is: this tracker, Node's internals down to the API the user called, then the user's bundle.
  const isNode = (c: NodeJS.CallSite) => (c.getFileName() ?? 'node:').startsWith('node:');
  const firstNode = sites.findIndex(isNode);
  const firstOutside = firstNode < 0 ? -1 : sites.findIndex((c, i) => i > firstNode && !isNode(c));
  if (firstOutside < 0) return { api: null, frames: [] };
  const apiSite = sites[firstOutside - 1];
  const method = apiSite.getFunctionName();
  const type = apiSite.getTypeName();
  const api = method ? (type && type !== 'Object' && !method.startsWith(`${type}.`) ? `${type}.${method}` : method) : null;
  return { api, frames: sites.slice(firstOutside).map(positionOf) };
}

function countByName(names: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/** Watches resource creation while user code runs and reports what each stage left open. */
export class OpenResourceTracker {
  private readonly created = new Map<number, Created>();
  private readonly hook = createHook({
    init: (asyncId, type, trigger, resource) => {
      if (type === 'PROMISE') return;
      // A handle created in a callback (listen(port, host) opens its server after a DNS lookup) is where its trigger was created.
      const site = creationSite();
      const inherited = site.frames.length === 0 ? this.created.get(trigger) : undefined;
      this.created.set(asyncId, { type, resource: resource as Created['resource'], api: inherited?.api ?? site.api, frames: inherited?.frames ?? site.frames });
    },
    destroy: (asyncId) => { this.created.delete(asyncId); },
  });
  private baseline = countByName(process.getActiveResourcesInfo());

  /** Starts watching; what is open now is not the user's. */
  start(): void {
    this.baseline = countByName(process.getActiveResourcesInfo());
    this.hook.enable();
  }

  /** Names opened since the baseline, with how many of each. */
  private added(): Map<string, number> {
    const added = new Map<string, number>();
    for (const [type, count] of countByName(process.getActiveResourcesInfo())) {
      const more = count - (this.baseline.get(type) ?? 0);
      if (more > 0 && !OWN.has(type)) added.set(type, more);
    }
    return added;
  }

  /** What was opened since start() (or the previous call) and is still open, attributed to `stage`; waits briefly for pending requests first. */
  async collect(stage: EvaluationStage): Promise<OpenResource[]> {
    const deadline = Date.now() + SETTLE_MS;
    // One turn of the event loop first: `listen(port, host)` creates its server in a nextTick callback.
    await new Promise((resolve) => setImmediate(resolve));
    while ([...this.added().keys()].some((type) => PENDING_REQUEST.test(type)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const open: OpenResource[] = [];
    for (const [type, added] of this.added()) {
      if (PENDING_REQUEST.test(type)) continue;
      // Live, referenced resources of this kind, oldest first; a cleared timer may not have had its destroy hook yet.
      const candidates = [...this.created.values()].filter((c) => c.type === HOOK_TYPE_OF[type] && c.resource.hasRef?.() !== false && c.resource._destroyed !== true);
      for (let i = 0; i < added; i++) {
        const site = candidates[i];
        open.push({ type, api: site?.api ?? null, stage, frames: site?.frames ?? [] });
      }
    }
    // What is open now belongs to this stage; the next stage is judged against it.
    this.baseline = countByName(process.getActiveResourcesInfo());
    this.created.clear();
    return open;
  }

  /** Stops watching. */
  stop(): void {
    this.hook.disable();
  }
}
