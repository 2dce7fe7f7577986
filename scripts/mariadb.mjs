#!/usr/bin/env node
// A private MariaDB with a ROW binlog and GTIDs, for the MySQL connectors' tests (the machine's
// server has its binlog off and is shared), without Docker:
//   node scripts/mariadb.mjs up     create a data directory with mariadb-install-db (first time),
//                                   start mariadbd as root, wait until it answers
//   node scripts/mariadb.mjs down   stop it
// It listens on 127.0.0.1:13306 (PIPEC_MARIADB_PORT to change), user root without a password;
// tests use PIPEC_MYSQL_URL=mysql://root@127.0.0.1:13306/. Everything lives in .mariadb/
// (data, binlogs, socket, pid, error log; PIPEC_MARIADB_HOME for another folder, as a test
// that takes its own server down does). `up` prints nothing on stdout; it exits 0 when the
// server answers, and says "started" on stderr only when it started one (scripts/test.mjs
// stops only what it started).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const home = path.resolve(process.env.PIPEC_MARIADB_HOME ?? path.join(root, '.mariadb'));
const dataDir = path.join(home, 'data');
const port = Number(process.env.PIPEC_MARIADB_PORT ?? 13306);
const socket = path.join(home, 'mariadb.sock');
const pidFile = path.join(home, 'mariadb.pid');
const log = (message) => process.stderr.write(`mariadb: ${message}\n`);

/** Whether something accepts connections on the port. */
function answers(timeoutMs = 500) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.setTimeout(timeoutMs, () => { s.destroy(); resolve(false); });
    s.on('error', () => resolve(false));
  });
}

function running() {
  if (!fs.existsSync(pidFile)) return null;
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  try { process.kill(pid, 0); return pid; } catch { return null; }
}

/** Whether the server answers a query (not only the TCP handshake: it is done starting). */
async function ready() {
  try {
    execFileSync('mariadb', ['--protocol=TCP', '-h', '127.0.0.1', '-P', String(port), '-u', 'root', '-e', 'SELECT 1'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

function install() {
  if (fs.existsSync(path.join(dataDir, 'mysql'))) return;
  for (const tool of ['mariadb-install-db', 'mariadbd']) {
    try { execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }); } catch {
      throw new Error(`${tool} is not installed: apt-get install mariadb-server (MariaDB 10.5 or later)`);
    }
  }
  fs.mkdirSync(dataDir, { recursive: true });
  log(`creating a data directory in ${path.relative(root, dataDir)}/ ...`);
  execFileSync('mariadb-install-db', [
    '--no-defaults', `--datadir=${dataDir}`, '--user=root', '--auth-root-authentication-method=normal',
    '--skip-test-db', '--skip-name-resolve',
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function up() {
  fs.mkdirSync(home, { recursive: true });
  if (await answers()) {
    if (await ready()) { log(`already running on 127.0.0.1:${port}`); return; }
    throw new Error(`something listens on 127.0.0.1:${port} but does not answer as root: set PIPEC_MARIADB_PORT to another port`);
  }
  install();
  const out = fs.openSync(path.join(home, 'mariadbd.log'), 'a');
  const child = spawn('mariadbd', [
    '--no-defaults', `--datadir=${dataDir}`, '--user=root', `--socket=${socket}`, `--pid-file=${pidFile}`,
    '--bind-address=127.0.0.1', `--port=${port}`, '--skip-name-resolve',
    // What mysql.cdc needs: a ROW binlog with full row images (MariaDB's GTIDs are on with the binlog).
    // PIPEC_MARIADB_BINLOG=off starts a server without one (the test of the error that says how to enable it).
    ...(process.env.PIPEC_MARIADB_BINLOG === 'off' ? ['--skip-log-bin'] : [`--log-bin=${path.join(home, 'binlog', 'mariadb-bin')}`, '--binlog-format=ROW', '--binlog-row-image=FULL', '--server-id=1']),
    '--character-set-server=utf8mb4', '--collation-server=utf8mb4_unicode_ci',
    '--innodb-buffer-pool-size=128M', '--innodb-log-file-size=64M', '--max-connections=300',
    `--log-error=${path.join(home, 'mariadbd.err')}`,
  ], { detached: true, stdio: ['ignore', out, out] });
  fs.mkdirSync(path.join(home, 'binlog'), { recursive: true });
  child.unref();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited during start-up; see ${path.join(home, 'mariadbd.err')}`);
    if (await answers() && await ready()) {
      fs.writeFileSync(pidFile, String(child.pid));
      log(`started on 127.0.0.1:${port} (pid ${child.pid}); PIPEC_MYSQL_URL=mysql://root@127.0.0.1:${port}/`);
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`mariadbd did not answer within 60 s; see ${path.join(home, 'mariadbd.err')}`);
}

async function down() {
  const pid = running();
  if (!pid) { log('not running'); return; }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 150 && running(); i++) await new Promise((r) => setTimeout(r, 200));
  if (running()) process.kill(pid, 'SIGKILL');
  fs.rmSync(pidFile, { force: true });
  log('stopped');
}

const command = process.argv[2];
if (command === 'up') await up();
else if (command === 'down') await down();
else { process.stderr.write('usage: node scripts/mariadb.mjs up|down\n'); process.exit(2); }
