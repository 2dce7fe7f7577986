/**
 * Phase 6, bundle: esbuild turns each entry (stage workers, local runner) into
 * one self-contained ESM file for Node with a linked source map
 * (`//# sourceMappingURL=<file>.map`) that leads back through the generated
 * module to the user's pipeline file. Each bundle enables source maps itself
 * (see sourceMapsBootstrap), so a stack trace from a user function names the
 * pipeline file's line and column however the worker is started.
 *
 * In: EmittedPipeline. Out: the files of dist/<name>/ as a path → contents map.
 */
import path from 'node:path';
import * as esbuild from 'esbuild';
import type { EmittedPipeline } from '../../ir/emitted.ts';
import type { Host } from '../../host.ts';
import { hostLoader, pipecResolver, REQUIRE_BANNER, stubbedPackages, unusedPackageStubs } from '../../esbuild/plugins.ts';
import { kafkajsPatches } from '../../esbuild/kafkajs-patches.ts';

/** Output files relative to dist/<name>/. */
export type BundleOutput = Map<string, string | Uint8Array>;

/**
 * esbuild keeps only "legal" comments (`//!`); the generated modules' line
 * comments name the user's operators and source lines, so they are marked that
 * way to survive into the bundle, where users read them.
 */
function keepComments(code: string): string {
  return code.replace(/^(\s*)\/\/ /gm, '$1//! ');
}

/**
 * The module each bundle starts with. Node maps stack traces only for modules
 * loaded after source maps are enabled, and a bundle is one module, so it
 * enables them and loads its own file again under another URL (a fresh
 * module instance whose map Node reads); only that instance runs the entry,
 * which esbuild bundles lazily behind the dynamic import. Started with
 * `node --enable-source-maps`, the first instance runs it directly.
 */
function sourceMapsBootstrap(entry: string): string {
  return [
    `if (process.sourceMapsEnabled) await import(${JSON.stringify(`./${entry}`)});`,
    `else { process.setSourceMapsEnabled(true); await import(import.meta.url + '?source-maps'); }`,
    '',
  ].join('\n');
}

/** The virtual file name of an entry's bootstrap module. */
function bootstrapName(entry: string): string {
  return entry.replace(/\.ts$/, '.boot.ts');
}

/**
 * The esbuild context of successive builds of one pipeline in one process
 * (pipec build --watch): esbuild parses again only what changed (the
 * generated modules and the user's files, served from memory through the
 * Host; pipec's runtime and the packages are read from disk and cached). A new
 * context is made when the entries or the packages left out change.
 */
export class Bundler {
  private context: { key: string; ctx: esbuild.BuildContext<{ write: false }>; virtual: Map<string, string> } | null = null;

  /** The output files of one build. */
  async build(host: Host, emitted: EmittedPipeline, virtual: Map<string, string>, options: esbuild.BuildOptions & { write: false }): Promise<esbuild.OutputFile[]> {
    const key = JSON.stringify([options.entryPoints, options.outdir, stubbedPackages(emitted.manifest)]);
    if (this.context?.key !== key) {
      await this.dispose();
      const shared = new Map(virtual);
      const ctx = await esbuild.context({ ...options, plugins: [pipecResolver(), kafkajsPatches(), unusedPackageStubs(emitted.manifest), hostLoader(host, shared)] });
      this.context = { key, ctx, virtual: shared };
    } else {
      this.context.virtual.clear();
      for (const [file, code] of virtual) this.context.virtual.set(file, code);
    }
    return (await this.context.ctx.rebuild()).outputFiles;
  }

  async dispose(): Promise<void> {
    await this.context?.ctx.dispose();
    this.context = null;
  }
}

/** Bundles every entry; generated modules are served from memory. With a Bundler, its esbuild context is reused. */
export async function bundle(host: Host, emitted: EmittedPipeline, bundler?: Bundler): Promise<BundleOutput> {
  const dir = path.join(host.root, '.pipec', emitted.pipeline);
  const virtual = new Map<string, string>();
  for (const stage of emitted.stages) {
    const inlineMap = Buffer.from(stage.map).toString('base64');
    virtual.set(path.join(dir, stage.fileName), `${keepComments(stage.code)}//# sourceMappingURL=data:application/json;base64,${inlineMap}\n`);
  }
  for (const { module } of emitted.entries) {
    virtual.set(path.join(dir, module.fileName), module.code);
    virtual.set(path.join(dir, bootstrapName(module.fileName)), sourceMapsBootstrap(module.fileName));
  }
  const outdir = path.join(host.root, '.pipec-out', emitted.pipeline);
  const options = {
    entryPoints: emitted.entries.map(({ outFile, module }) => ({ in: path.join(dir, bootstrapName(module.fileName)), out: outFile })),
    outdir, bundle: true, write: false, format: 'esm', platform: 'node', target: 'node20',
    outExtension: { '.js': '.mjs' }, sourcemap: 'linked', sourcesContent: true, legalComments: 'inline',
    absWorkingDir: host.root, logLevel: 'silent', banner: { js: REQUIRE_BANNER },
  } satisfies esbuild.BuildOptions;
  const outputFiles = bundler
    ? await bundler.build(host, emitted, virtual, options)
    : (await esbuild.build({ ...options, plugins: [pipecResolver(), kafkajsPatches(), unusedPackageStubs(emitted.manifest), hostLoader(host, virtual)] })).outputFiles;
  const files: BundleOutput = new Map();
  for (const file of outputFiles) files.set(path.relative(outdir, file.path).split(path.sep).join('/'), file.contents);
  for (const [name, text] of Object.entries(emitted.files)) files.set(name, text);
  return files;
}
