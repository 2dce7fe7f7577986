/**
 * The compiler's window on the file system (TypeScript's CompilerHost idea):
 * every phase reads the user's files and writes output through a Host, so tests
 * can run the whole compiler on an in-memory file map. Also locates pipec's own
 * files (the DSL and runtime the user's code is checked and bundled against).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** File access for one compilation. Paths are absolute. */
export interface Host {
  /** The project root: output paths, diagnostics and source maps are relative to it. */
  readonly root: string;
  readFile(file: string): string | undefined;
  fileExists(file: string): boolean;
  writeFile(file: string, contents: string | Uint8Array): void;
  /** Whether a folder exists (module resolution asks before looking inside). */
  directoryExists(dir: string): boolean;
}

/** A Host on the real file system. */
export function nodeHost(root: string = process.cwd()): Host {
  return {
    root: path.resolve(root),
    readFile: (file) => (fs.existsSync(file) && fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8') : undefined),
    fileExists: (file) => fs.existsSync(file) && fs.statSync(file).isFile(),
    writeFile: (file, contents) => { fs.mkdirSync(path.dirname(file), { recursive: true }); fs.writeFileSync(file, contents); },
    directoryExists: (dir) => fs.existsSync(dir) && fs.statSync(dir).isDirectory(),
  };
}

/** A Host whose files under `root` come from a map (relative paths); everything else is read from disk. Writes land in `written`. */
export function memoryHost(root: string, files: Record<string, string>): Host & { written: Map<string, string | Uint8Array> } {
  const absolute = new Map(Object.entries(files).map(([name, text]) => [path.resolve(root, name), text]));
  const disk = nodeHost(root);
  const written = new Map<string, string | Uint8Array>();
  return {
    root: path.resolve(root),
    written,
    readFile: (file) => absolute.get(file) ?? disk.readFile(file),
    fileExists: (file) => absolute.has(file) || disk.fileExists(file),
    writeFile: (file, contents) => { written.set(file, contents); },
    directoryExists: (dir) => [...absolute.keys()].some((file) => file.startsWith(dir + path.sep)) || disk.directoryExists(dir),
  };
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** True when the compiler runs from its TypeScript sources (tests, `npm run pipec`), false from lib/ (the published package). */
const fromSource = import.meta.url.endsWith('.ts');

/** Where pipec's own package lives. */
export const pipecRoot = fromSource ? path.resolve(here, '..') : path.resolve(here, '../..');

/** pipec's package.json version. */
export const pipecVersion: string = JSON.parse(fs.readFileSync(path.join(pipecRoot, 'package.json'), 'utf8')).version;

/** Package entry points whose module is a folder index; other subpaths (`pipec/internal/connectors/file/runtime`) map to runtime/<subpath>. */
const PACKAGE_ENTRIES: Record<string, string> = { pipec: 'api/index', 'pipec/internal': 'internal/index', 'pipec/internal/distributed': 'internal/distributed/index', 'pipec/testing': 'testing/index' };

/** The file a `pipec` or `pipec/<sub>` import means, for type-checking (`types`) or bundling (`code`). */
export function pipecModule(specifier: string, purpose: 'types' | 'code'): string | undefined {
  if (specifier !== 'pipec' && !specifier.startsWith('pipec/')) return undefined;
  const relative = PACKAGE_ENTRIES[specifier] ?? specifier.slice('pipec/'.length);
  if (fromSource) return path.join(pipecRoot, 'runtime', `${relative}.ts`);
  return path.join(pipecRoot, 'lib', 'runtime', `${relative}${purpose === 'types' ? '.d.ts' : '.js'}`);
}

/** The runtime folder whose files are pipec's own (stack frames there are not the user's). */
export const pipecRuntimeDir = fromSource ? path.join(pipecRoot, 'runtime') : path.join(pipecRoot, 'lib', 'runtime');

/** Turns an absolute path into the project-relative, forward-slash form used in output. */
export function displayPath(host: Host, file: string): string {
  return path.relative(host.root, file).split(path.sep).join('/');
}
