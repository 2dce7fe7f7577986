/**
 * Test helpers: build a pipeline into a temporary folder, copy the bundle
 * somewhere without node_modules, and run it with plain node.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, nodeHost, type BuildResult } from '../compiler/index.ts';

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A fresh temporary folder, removed when the process exits. */
export function tempDir(prefix = 'pipec-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Jobs with an unbounded source checkpoint to files: each test process keeps them in its own folder,
// so no run resumes from another run's checkpoint.
process.env.PIPEC_CHECKPOINT_DIR ??= tempDir('pipec-checkpoints-');

/** Builds a repo file into a temporary dist folder. */
export async function buildFile(file: string): Promise<BuildResult & { dist: string }> {
  const dist = tempDir('pipec-dist-');
  const result = await build(nodeHost(repoRoot), file, dist);
  return { ...result, dist };
}

/** Copies a built pipeline folder to a fresh folder with no node_modules anywhere above it that could help. */
export function isolate(outDir: string): string {
  const target = path.join(tempDir('pipec-run-'), path.basename(outDir));
  fs.cpSync(outDir, target, { recursive: true });
  return target;
}

/** Runs a bundle with plain node. */
export function runNode(script: string, args: string[] = [], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const result = spawnSync(process.execPath, [script, ...args], { cwd: options.cwd ?? path.dirname(script), env: { ...process.env, ...options.env }, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Lines of text without the trailing empty one. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}
