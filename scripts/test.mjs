#!/usr/bin/env node
// `npm test`: runs every test/**/*.test.ts with node's test runner through tsx
// (Node 20 needs the file list; bare --test finds no .ts files). Extra
// arguments are passed to node --test (e.g. --test-name-pattern).
//
// The MySQL connectors' tests need a MariaDB with a ROW binlog: the private
// one of scripts/mariadb.mjs is started here when it does not answer yet, and
// stopped again afterwards — however the run ends (tests failing, SIGINT,
// SIGTERM) — if this run started it.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const mariadb = path.join(root, 'scripts/mariadb.mjs');
const port = Number(process.env.PIPEC_MARIADB_PORT ?? 13306);
const files = fs.readdirSync(path.join(root, 'test'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => path.join('test', f));

const answers = () => new Promise((resolve) => {
  const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

let startedMariadb = false;
const stopMariadb = () => {
  if (!startedMariadb) return;
  startedMariadb = false;
  spawnSync(process.execPath, [mariadb, 'down'], { cwd: root, stdio: 'inherit' });
};

let status = 1;
try {
  if (!(await answers())) {
    const up = spawnSync(process.execPath, [mariadb, 'up'], { cwd: root, stdio: 'inherit' });
    if (up.status !== 0) throw new Error('scripts/mariadb.mjs up failed: the MySQL connector tests need mariadb-install-db and mariadbd (apt-get install mariadb-server)');
    startedMariadb = true;
  }
  // --test-force-exit: a test file whose failed test left a client connected must not keep the run waiting.
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-force-exit', '--test-reporter=spec', ...process.argv.slice(2), ...files], { cwd: root, stdio: 'inherit' });
  // A signal stops the tests, and then the server (below); the child gets the terminal's SIGINT itself.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  status = await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
} catch (error) {
  process.stderr.write(`${error.message}\n`);
} finally {
  stopMariadb();
}
process.exit(status);
