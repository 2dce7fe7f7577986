/**
 * `pipec build --watch`: builds once, then again whenever one of the files
 * the last build read changes (the pipeline file, the user's modules it
 * imports, whatever the module loaded), until SIGINT or SIGTERM. Builds run
 * one after another in one BuildSession, so each reuses the last one's work;
 * a change during a build starts the next right after it.
 */
import fs from 'node:fs';
import { build, type BuildResult, type CheckOptions } from '../index.ts';
import type { Host } from '../host.ts';
import { BuildSession } from '../session.ts';

/** Changes closer together than this make one build (an editor saving writes several times). */
const DEBOUNCE_MS = 10;

/** Runs the watch loop; `report` is called after every build with its result and duration. Resolves when stopped. */
export async function watchBuild(host: Host, file: string, out: string, options: CheckOptions, report: (result: BuildResult, ms: number) => void): Promise<void> {
  const session = new BuildSession();
  let watchers: fs.FSWatcher[] = [];
  let building = false;
  let pending = false;
  let timer: NodeJS.Timeout | undefined;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => { stop = resolve; });

  const rewatch = () => {
    for (const w of watchers) w.close();
    watchers = [];
    for (const input of session.inputs) {
      try {
        // An editor may replace a file (rename): every event means "build again", and the next build watches the new file.
        watchers.push(fs.watch(input, { persistent: true }, changed));
      } catch {
        // A file that is gone now: the next build reports it if it is still needed.
      }
    }
  };
  const run = async () => {
    building = true;
    do {
      pending = false;
      const started = performance.now();
      const result = await build(host, file, out, options, session);
      report(result, performance.now() - started);
      session.prepareNext();
      rewatch();
    } while (pending);
    building = false;
  };
  function changed(): void {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (building) pending = true;
      else run().catch((error: unknown) => { process.stderr.write(`pipec: internal error: ${error instanceof Error ? error.stack : String(error)}\n`); stop(); });
    }, DEBOUNCE_MS);
  }

  const onSignal = () => stop();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  await run();
  await stopped;
  process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  clearTimeout(timer);
  for (const w of watchers) w.close();
  await session.dispose();
}
