#!/usr/bin/env node
// A real Apache Kafka broker for development and tests, without Docker:
//   node scripts/kafka.mjs up     fetch the broker from Maven Central (first time), format a
//                                 single-node KRaft log dir, start it, wait until it answers
//   node scripts/kafka.mjs down   stop it
// It listens on 127.0.0.1:19092 (PIPEC_KAFKA_PORT to change); tests read PIPEC_KAFKA_BROKERS.
// Everything lives in .kafka/ (jars, config, data, log, pid).
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const home = path.join(root, '.kafka');
const libs = path.join(home, 'libs');
const port = Number(process.env.PIPEC_KAFKA_PORT ?? 19092);
const controllerPort = port + 1;
const pidFile = path.join(home, 'kafka.pid');
const log = (message) => process.stderr.write(`kafka: ${message}\n`);

function fetchBroker() {
  if (fs.existsSync(libs) && fs.readdirSync(libs).some((f) => f.startsWith('kafka_2.13-'))) return;
  log('fetching the broker from Maven Central (org.apache.kafka:kafka_2.13)...');
  execFileSync('mvn', ['-q', '-B', '-f', path.join(root, 'scripts/kafka/pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`], { stdio: 'inherit' });
}

function writeConfig() {
  const dataDir = path.join(home, 'data');
  fs.writeFileSync(path.join(home, 'server.properties'), [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'log.retention.hours=24',
  ].join('\n') + '\n');
  fs.writeFileSync(path.join(home, 'log4j.properties'), [
    'log4j.rootLogger=WARN, file',
    'log4j.appender.file=org.apache.log4j.FileAppender',
    `log4j.appender.file.File=${path.join(home, 'server.log')}`,
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.kafka=INFO',
  ].join('\n') + '\n');
  if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
    // A base64url id may start with '-'; passed as --cluster-id=<id> it is never taken for an option.
    const clusterId = crypto.randomBytes(16).toString('base64url').slice(0, 22);
    execFileSync('java', ['-cp', `${libs}/*`, `-Dlog4j.configuration=file:${path.join(home, 'log4j.properties')}`, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', path.join(home, 'server.properties'), '--ignore-formatted'], { stdio: 'ignore' });
  }
}

function answers(timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
    socket.setTimeout(timeoutMs, () => { socket.destroy(); resolve(false); });
    socket.on('error', () => resolve(false));
  });
}

function running() {
  if (!fs.existsSync(pidFile)) return null;
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  try { process.kill(pid, 0); return pid; } catch { return null; }
}

async function waitForMetadata(deadline) {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ clientId: 'pipec-kafka-up', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  while (Date.now() < deadline) {
    try { await admin.connect(); await admin.listTopics(); await admin.disconnect(); return true; } catch { await new Promise((r) => setTimeout(r, 500)); }
  }
  return false;
}

async function up() {
  fs.mkdirSync(home, { recursive: true });
  if (running() && (await answers())) { log(`already running on 127.0.0.1:${port}`); return; }
  if (await answers()) { log(`something already listens on 127.0.0.1:${port}; using it`); return; }
  fetchBroker();
  writeConfig();
  const out = fs.openSync(path.join(home, 'stdout.log'), 'a');
  const child = spawn('java', [
    '-Xms256m', '-Xmx768m', '-XX:+UseG1GC', '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${path.join(home, 'log4j.properties')}`,
    '-cp', `${libs}/*`, 'kafka.Kafka', path.join(home, 'server.properties'),
  ], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  fs.writeFileSync(pidFile, String(child.pid));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && !(await answers())) {
    if (!running()) throw new Error(`the broker exited during start-up; see ${path.join(home, 'server.log')} and stdout.log`);
    await new Promise((r) => setTimeout(r, 300));
  }
  if (!(await waitForMetadata(deadline))) throw new Error(`the broker did not answer within 90 s; see ${path.join(home, 'server.log')}`);
  log(`up on 127.0.0.1:${port} (pid ${child.pid}); PIPEC_KAFKA_BROKERS=127.0.0.1:${port}`);
}

async function down() {
  const pid = running();
  if (!pid) { log('not running'); return; }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && running(); i++) await new Promise((r) => setTimeout(r, 200));
  if (running()) process.kill(pid, 'SIGKILL');
  fs.rmSync(pidFile, { force: true });
  log('stopped');
}

const command = process.argv[2];
if (command === 'up') await up();
else if (command === 'down') await down();
else { process.stderr.write('usage: node scripts/kafka.mjs up|down\n'); process.exit(2); }
