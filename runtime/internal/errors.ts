/**
 * What the runtime reports about an exception thrown by user code on a
 * record: where in the user's files it was thrown, read from the stack (which
 * Node maps through the bundle's source map, see compiler/phases/6-bundle),
 * and the record's text for the dead-letter output.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Frames that are not the user's code: pipec's runtime, generated stage modules, packages, Node itself, unmapped bundle lines. */
const NOT_USER_CODE = /(?:^|[\\/])(?:runtime[\\/](?:internal|api|testing)|\.pipec|node_modules)[\\/]|^node:|^native$|\.mjs(?:\?.*)?$|^<anonymous>$/;

/** One `at ... (file:line:col)` line of a V8 stack. */
const FRAME = /^\s*at (?:.*?\()?([^()]+?):(\d+):(\d+)\)?$/;

/**
 * The folder user paths are shown relative to. A bundle's source map names
 * files relative to the project root as seen from dist/<name>/, so Node
 * resolves them two folders above the bundle; unbundled (pipec/testing), the
 * working folder.
 */
function displayRoot(): string {
  const entry = process.argv[1];
  return entry && entry.endsWith('.mjs') ? path.resolve(path.dirname(entry), '../..') : process.cwd();
}

let root: string | undefined;

/** A stack frame's file as the user knows it: relative to the project when inside it. */
function displayPath(file: string, pipelineFile: string | undefined): string {
  if (pipelineFile && file.split(path.sep).join('/').endsWith(`/${pipelineFile}`)) return pipelineFile;
  root ??= displayRoot();
  const relative = path.relative(root, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative.split(path.sep).join('/') : file;
}

/**
 * `file:line:col` of the innermost frame of an error's stack that is in the
 * user's code (the pipeline file or a module it imports), or undefined when
 * the stack has none (a throw inside a package, or no source maps).
 */
export function userLocation(error: unknown, pipelineFile?: string): string | undefined {
  const stack = (error as { stack?: unknown } | null)?.stack;
  if (typeof stack !== 'string') return undefined;
  for (const line of stack.split('\n')) {
    const frame = FRAME.exec(line);
    if (!frame) continue;
    let file = frame[1];
    if (file.startsWith('file://')) {
      try { file = fileURLToPath(file.replace(/\?.*$/, '')); } catch { continue; }
    }
    if (NOT_USER_CODE.test(file)) continue;
    return `${displayPath(file, pipelineFile)}:${frame[2]}:${frame[3]}`;
  }
  return undefined;
}

/** The message of something thrown (an Error's message, or the thrown value as text). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') return (error as { message: string }).message;
  return `${typeof error === 'string' ? error : recordText(error)} (thrown value, not an Error)`;
}

/** A record as text for the dead-letter output: strings as they are, other values as JSON (bigints as numbers' text). */
export function recordText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
