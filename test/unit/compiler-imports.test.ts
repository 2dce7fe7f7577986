// The compiler loads TypeScript through compiler/typescript.ts (require, not an
// ES import: Node would first scan the 9 MB CommonJS module for named exports,
// about 300 ms of every build). A module that imports 'typescript' itself
// brings that cost back; this test names it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '../..');

test('no compiler module imports the typescript package as a value, except compiler/typescript.ts', () => {
  const offenders: string[] = [];
  for (const file of fs.readdirSync(path.join(root, 'compiler'), { recursive: true }).map(String)) {
    if (!file.endsWith('.ts') || file === 'typescript.ts') continue;
    const text = fs.readFileSync(path.join(root, 'compiler', file), 'utf8');
    if (/^\s*import\s+(?!type\b)[^;]*from\s+'typescript'/m.test(text) || /require\(\s*'typescript'\s*\)/.test(text)) offenders.push(`compiler/${file}`);
  }
  assert.deepEqual(offenders, [], 'import ts from the compiler\'s typescript.ts instead');
});
