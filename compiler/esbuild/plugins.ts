/**
 * esbuild plugins shared by the plan and bundle phases: `pipec` imports resolve
 * to this compiler's own DSL and runtime (so a bundle always matches the
 * compiler that generated it), files come through the Host, and generated
 * modules are served from memory.
 */
import path from 'node:path';
import type { Plugin } from 'esbuild';
import { pipecModule, pipecRuntimeDir, type Host } from '../host.ts';
import type { Manifest } from '../ir/emitted.ts';

/** Resolves `pipec` and `pipec/...` to this compiler's copy. */
export function pipecResolver(): Plugin {
  return {
    name: 'pipec-resolver',
    setup(build) {
      build.onResolve({ filter: /^pipec(\/.*)?$/ }, (args) => {
        const file = pipecModule(args.path, 'code');
        return file ? { path: file } : undefined;
      });
    },
  };
}

/** Loads the user's files through the Host (in-memory in tests) and serves `virtual` modules by absolute path. */
export function hostLoader(host: Host, virtual: Map<string, string> = new Map()): Plugin {
  return {
    name: 'pipec-host',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (virtual.has(args.path) || (path.isAbsolute(args.path) && host.fileExists(args.path))) return { path: args.path };
        if (!args.path.startsWith('.') || !args.resolveDir) return undefined;
        // Resolve relative imports ourselves: importers may be virtual (no folder on disk) and files may exist only in the Host.
        const base = path.resolve(args.resolveDir, args.path);
        for (const candidate of [base, `${base}.ts`, `${base}.js`, path.join(base, 'index.ts'), path.join(base, 'index.js')]) {
          if (virtual.has(candidate) || host.fileExists(candidate)) return { path: candidate };
        }
        return undefined;
      });
      build.onLoad({ filter: /\.(ts|mts|tsx|js|mjs)$/ }, (args) => {
        // pipec's own runtime is not the user's: esbuild reads it from disk, which its incremental builds (watch) cache.
        const userFile = args.path.startsWith(host.root + path.sep) && !args.path.includes(`${path.sep}node_modules${path.sep}`) && !args.path.startsWith(pipecRuntimeDir + path.sep);
        const contents = virtual.get(args.path) ?? (userFile ? host.readFile(args.path) : undefined);
        if (contents === undefined) return undefined;
        return { contents, loader: /\.m?js$/.test(args.path) ? 'js' : 'ts', resolveDir: path.dirname(args.path) };
      });
    },
  };
}

/** ESM bundles for Node need `require` for CommonJS packages that load built-ins. */
export const REQUIRE_BANNER = "import { createRequire as __pipecCreateRequire } from 'node:module';\nconst require = __pipecCreateRequire(import.meta.url);";

/**
 * Packages the runtime can reach but a pipeline may not use, with when it
 * does: bundles of a pipeline that does not get a stub instead, so they carry
 * no code they never run. ioredis is loaded only by the `redis` checkpoint
 * store and connector (its stub fails with a message if it is ever loaded);
 * `@opentelemetry/api` is loaded by prom-client at start, but used only for
 * metric exemplars, which pipec never turns on (its stub has no active span).
 */
const OPTIONAL_PACKAGES: ReadonlyArray<{ name: string; usedBy: (manifest: Manifest) => boolean; stub: string }> = [
  {
    name: 'ioredis',
    usedBy: (m) => m.checkpoint?.store === 'redis' || m.stages.some((s) => s.connectors.some((c) => c === 'redis' || c.startsWith('redis.'))),
    stub: `throw new Error('ioredis is not in this bundle: the pipeline it was built from uses no Redis (rebuild with pipec build)');`,
  },
  {
    name: '@opentelemetry/api',
    usedBy: () => false,
    stub: 'module.exports = { trace: { getSpan: () => undefined }, context: { active: () => undefined } };',
  },
];

/** The OPTIONAL_PACKAGES a pipeline's bundles leave out. */
export function stubbedPackages(manifest: Manifest): string[] {
  return OPTIONAL_PACKAGES.filter((p) => !p.usedBy(manifest)).map((p) => p.name);
}

/** Replaces the OPTIONAL_PACKAGES the pipeline does not use with their stubs. */
export function unusedPackageStubs(manifest: Manifest): Plugin {
  const stubs = new Map(OPTIONAL_PACKAGES.filter((p) => !p.usedBy(manifest)).map((p) => [p.name, p.stub]));
  const filter = new RegExp(`^(${[...stubs.keys()].map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
  return {
    name: 'pipec-unused-package-stubs',
    setup(build) {
      if (stubs.size === 0) return;
      build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'pipec-stub' }));
      build.onLoad({ filter: /.*/, namespace: 'pipec-stub' }, (args) => ({ contents: stubs.get(args.path)!, loader: 'js' }));
    },
  };
}
