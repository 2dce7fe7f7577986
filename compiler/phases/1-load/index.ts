/**
 * Phase 1, load & check: builds a TypeScript program for the pipeline file
 * against pipec's DSL types and reports every TypeScript error.
 *
 * In: a Host and the pipeline file. Out: LoadedProgram (the program, its type
 * checker, the entry SourceFile) and TS diagnostics as pipec Diagnostics.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import ts from '../../typescript.ts';
import type { Diagnostic } from '../../diagnostics/index.ts';
import { displayPath, pipecModule, type Host } from '../../host.ts';

/** The result of loading: a checked program. */
export interface LoadedProgram {
  host: Host;
  /** Absolute path of the pipeline file. */
  entryFile: string;
  program: ts.Program;
  checker: ts.TypeChecker;
  entry: ts.SourceFile;
  diagnostics: Diagnostic[];
}

const require = createRequire(import.meta.url);
const nodeTypesDir = path.dirname(path.dirname(require.resolve('@types/node/package.json')));

/** Compiler options for pipeline files: strict, modern, resolving `pipec` to our DSL. */
function compilerOptions(): ts.CompilerOptions {
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    typeRoots: [nodeTypesDir],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    resolveJsonModule: true,
    esModuleInterop: true,
    paths: {
      pipec: [pipecModule('pipec', 'types')!],
      'pipec/testing': [pipecModule('pipec/testing', 'types')!],
    },
  };
}

/** Parsed files that never change during a process (TypeScript's libs, @types/node, pipec's own DSL). */
const stableFiles = new Map<string, ts.SourceFile>();

function createTsHost(host: Host, options: ts.CompilerOptions): ts.CompilerHost {
  const base = ts.createCompilerHost(options, true);
  // Files outside the project or in node_modules do not change while the process runs.
  const isStable = (file: string) => !file.startsWith(host.root + path.sep) || file.includes(`${path.sep}node_modules${path.sep}`);
  return {
    ...base,
    getCurrentDirectory: () => host.root,
    fileExists: (file) => host.fileExists(path.resolve(host.root, file)),
    readFile: (file) => host.readFile(path.resolve(host.root, file)),
    directoryExists: (dir) => host.directoryExists(path.resolve(host.root, dir)),
    getSourceFile(file, languageVersion) {
      const absolute = path.resolve(host.root, file);
      const stable = isStable(absolute);
      if (stable && stableFiles.has(absolute)) return stableFiles.get(absolute);
      const text = host.readFile(absolute);
      if (text === undefined) return undefined;
      const sourceFile = ts.createSourceFile(absolute, text, languageVersion, true);
      if (stable) stableFiles.set(absolute, sourceFile);
      return sourceFile;
    },
  };
}

/** Converts a TypeScript diagnostic into pipec's form. */
export function fromTsDiagnostic(host: Host, d: ts.Diagnostic): Diagnostic {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  const category = d.category === ts.DiagnosticCategory.Error ? 'error' : 'warning';
  if (!d.file || d.start === undefined) {
    return { code: `TS${d.code}`, category, message, hint: null, file: null, line: 0, column: 0, length: 0, lineText: null };
  }
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const lineStarts = d.file.getLineStarts();
  const lineEnd = line + 1 < lineStarts.length ? lineStarts[line + 1] : d.file.text.length;
  const lineText = d.file.text.slice(lineStarts[line], lineEnd).replace(/\r?\n$/, '');
  return {
    code: `TS${d.code}`, category, message, hint: null,
    file: displayPath(host, d.file.fileName), line: line + 1, column: character + 1, length: d.length ?? 1, lineText,
  };
}

/**
 * Type-checks the pipeline file and everything it imports. `oldProgram`, the
 * previous build's (pipec build --watch), lets TypeScript reuse what did not
 * change (with the parsed-file cache above, only edited files are parsed again).
 */
export function loadAndCheck(host: Host, entryFile: string, oldProgram?: ts.Program): LoadedProgram {
  const options = compilerOptions();
  const absolute = path.resolve(host.root, entryFile);
  const program = ts.createProgram({ rootNames: [absolute], options, host: createTsHost(host, options), oldProgram });
  const entry = program.getSourceFile(absolute);
  const diagnostics: Diagnostic[] = [];
  if (!entry) {
    diagnostics.push({ code: 'TS6053', category: 'error', message: `File '${displayPath(host, absolute)}' not found.`, hint: 'Check the path of the pipeline file.', file: null, line: 0, column: 0, length: 0, lineText: null });
  } else {
    for (const d of ts.getPreEmitDiagnostics(program)) diagnostics.push(fromTsDiagnostic(host, d));
  }
  return { host, entryFile: absolute, program, checker: program.getTypeChecker(), entry: entry!, diagnostics };
}
