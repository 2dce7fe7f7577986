#!/usr/bin/env node
// `npm run fuzz -- --seed N --runs M`: the differential test (test/differential)
// for as long as you like; runs test/differential/fuzz.ts through tsx.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'test/differential/fuzz.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
