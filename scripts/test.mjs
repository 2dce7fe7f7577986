#!/usr/bin/env node
// `npm test`: runs every test/**/*.test.ts with node's test runner through tsx
// (Node 20 needs the file list; bare --test finds no .ts files). Extra
// arguments are passed to node --test (e.g. --test-name-pattern).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const files = fs.readdirSync(path.join(root, 'test'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => path.join('test', f));
// --test-force-exit: a test file whose failed test left a client connected must not keep the run waiting.
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-force-exit', '--test-reporter=spec', ...process.argv.slice(2), ...files], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
