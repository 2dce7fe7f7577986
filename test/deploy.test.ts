// What `pipec build` emits for a platform team: the Dockerfile, k8s/stages.yaml,
// k8s/config.yaml and topics.json. The YAML parses into the workloads of the
// manifest's stages (replicas = parallelism, the stage's command, probes on
// /healthz at the metrics port, every variable a stage needs from the ConfigMap
// or the Secret); nothing names the build machine; two builds are
// byte-identical; the files the Dockerfile copies are enough to start a worker;
// and `pipec deploy-topics` creates what topics.json lists, on the real broker.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { Manifest } from '../compiler/ir/emitted.ts';
import { deploymentFiles, kubernetesName, METRICS_PORT } from '../compiler/phases/5-generate/deployment.ts';
import { buildFile, repoRoot, runNode, tempDir } from './helpers.ts';
import { deleteTopics, freshName, kafkaBrokers } from './kafka-helpers.ts';

const DEPLOYMENT_FILES = ['Dockerfile', 'Procfile', 'k8s/config.yaml', 'k8s/stages.yaml', 'topics.json'];

/** A Kubernetes object, as far as these tests read it. */
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec: {
    replicas?: number;
    parallelism?: number;
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: { terminationGracePeriodSeconds: number; containers: Container[] };
    };
  };
}

interface Probe { httpGet: { path: string; port: string | number } }
interface Container {
  name: string;
  image: string;
  command: string[];
  ports?: Array<{ name: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } } }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}

/** Parses a multi-document YAML file; a syntax error fails the test. */
function parseYaml(text: string, file: string): K8sObject[] {
  return parseAllDocuments(text).map((doc) => {
    assert.deepEqual(doc.errors.map(String), [], `${file} parses`);
    return doc.toJS() as K8sObject;
  });
}

/** Builds a pipeline and reads its deployment files and manifest. */
async function built(file: string) {
  const result = await buildFile(file);
  assert.equal(result.outDir !== null, true, JSON.stringify(result.diagnostics));
  const dir = result.outDir!;
  for (const name of DEPLOYMENT_FILES) assert.ok(fs.existsSync(path.join(dir, name)), `${name} is written`);
  const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
  const manifest = JSON.parse(read('manifest.json')) as Manifest;
  const workloads = parseYaml(read('k8s/stages.yaml'), 'k8s/stages.yaml');
  const config = parseYaml(read('k8s/config.yaml'), 'k8s/config.yaml');
  return { result, dir, read, manifest, workloads, config };
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** What every workload must say, whatever the pipeline. */
function checkWorkloads(manifest: Manifest, workloads: K8sObject[], config: K8sObject[]): void {
  const app = kubernetesName(manifest.pipeline);
  assert.match(app, DNS_LABEL);
  assert.equal(workloads.length, manifest.stages.length, 'one workload per stage');
  const keys = new Map(config.map((o) => [`${o.kind}/${o.metadata.name}`, Object.keys(o.data ?? o.stringData ?? {})]));
  for (const stage of manifest.stages) {
    const workload = workloads[stage.id];
    assert.equal(workload.metadata.name, `${app}-stage-${stage.id}`);
    assert.ok(workload.metadata.name.length <= 63 && DNS_LABEL.test(workload.metadata.name), workload.metadata.name);
    assert.equal(workload.kind === 'Job' ? workload.spec.parallelism : workload.spec.replicas, stage.parallelism, `stage ${stage.id}: replicas = parallelism`);
    const pod = workload.spec.template;
    assert.equal(pod.spec.terminationGracePeriodSeconds, 30);
    const [container] = pod.spec.containers;
    assert.deepEqual(container.command, ['node', stage.file]);
    assert.equal(container.image, `pipec/${app}:latest`);
    const env = container.env ?? [];
    const names = env.map((e) => e.name);
    for (const name of stage.env) assert.ok(names.includes(name), `stage ${stage.id} gets ${name}`);
    for (const e of env) {
      if (e.value !== undefined) continue;
      const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
      const kind = e.valueFrom?.configMapKeyRef ? 'ConfigMap' : 'Secret';
      assert.ok(ref, `${e.name} has a value or a reference`);
      assert.equal(ref.key, e.name);
      assert.ok(keys.get(`${kind}/${ref.name}`)?.includes(e.name), `${kind} ${ref.name} in k8s/config.yaml has ${e.name}`);
    }
    if (stage.inputs.length + stage.outputs.length > 0) {
      // A Kafka stage worker: /metrics and /healthz on the metrics port.
      assert.deepEqual(container.ports, [{ name: 'metrics', containerPort: METRICS_PORT }]);
      assert.equal(env.find((e) => e.name === 'PIPEC_METRICS_PORT')?.value, String(METRICS_PORT));
      assert.deepEqual(pod.metadata.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(METRICS_PORT), 'prometheus.io/path': '/metrics' });
    }
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      if (probe) assert.deepEqual(probe.httpGet, { path: '/healthz', port: 'metrics' });
    }
  }
}

/** Neither the build folder, the repository, the home folder nor the host's name appears in the deployment files. */
function checkMachineIndependent(read: (name: string) => string, dir: string): void {
  const hostname = new RegExp(`\\b${os.hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`);
  for (const name of DEPLOYMENT_FILES) {
    const text = read(name);
    for (const local of [dir, repoRoot, os.tmpdir(), os.homedir()]) assert.ok(!text.includes(local), `${name} names ${local}`);
    assert.doesNotMatch(text, hostname, `${name} names the build host`);
    assert.doesNotMatch(text, /\b20\d\d-\d\d-\d\d/, `${name} has no date`);
  }
}

test('click-rank: a Deployment per stage with probes, scraping and its settings; the Dockerfile and topics.json', async () => {
  const { result, dir, read, manifest, workloads, config } = await built('dsl-examples/click-rank.ts');
  checkWorkloads(manifest, workloads, config);
  assert.deepEqual(workloads.map((w) => w.kind), ['Deployment', 'Deployment'], 'both stages read Kafka and run until stopped');
  for (const workload of workloads) {
    const [container] = workload.spec.template.spec.containers;
    assert.ok(container.readinessProbe && container.livenessProbe, `${workload.metadata.name} has probes`);
    assert.deepEqual(container.env?.map((e) => e.name), ['PIPEC_METRICS_PORT', 'PIPEC_CHECKPOINT_DIR', 'PIPEC_KAFKA_BROKERS', 'PIPEC_TOPIC_PREFIX']);
    // The workers' local files live in a volume of the pod: a restarted container finds its state copy and member id.
    const dir = container.env!.find((e) => e.name === 'PIPEC_CHECKPOINT_DIR')!.value;
    const mount = (container as { volumeMounts?: Array<{ name: string; mountPath: string }> }).volumeMounts?.find((m) => m.mountPath === dir);
    assert.ok(mount, `${workload.metadata.name} mounts ${dir}`);
    const volumes = (workload.spec.template.spec as { volumes?: Array<{ name: string; emptyDir?: object }> }).volumes ?? [];
    assert.ok(volumes.find((v) => v.name === mount.name)?.emptyDir, `${workload.metadata.name} has an emptyDir volume ${mount.name}`);
  }
  assert.deepEqual(config.map((o) => `${o.kind}/${o.metadata.name}`), ['ConfigMap/click-rank-config'], 'no Secret: nothing needs credentials');

  const dockerfile = read('Dockerfile');
  assert.match(dockerfile, /^FROM node:20-slim$/m);
  assert.match(dockerfile, /^CMD \["node", "stage-0\.mjs"\]$/m);
  assert.match(dockerfile, new RegExp(`^ENV PIPEC_METRICS_PORT=${METRICS_PORT}$`, 'm'));
  const copied = dockerfile.match(/^COPY ([^]*?) \.\/$/m)![1].split(/[\s\\]+/).filter(Boolean);
  assert.deepEqual(copied, ['manifest.json', 'local.mjs', 'local.mjs.map', 'stage-0.mjs', 'stage-0.mjs.map', 'stage-1.mjs', 'stage-1.mjs.map']);
  for (const file of copied) assert.ok(fs.existsSync(path.join(dir, file)), `the build wrote ${file}`);

  assert.deepEqual(JSON.parse(read('topics.json')), {
    pipeline: 'click-rank',
    topics: [
      { topic: manifest.edges[0].topic, partitions: manifest.stages[1].parallelism, role: 'repartition', external: false },
      { topic: 'click-rank-dlq', partitions: 1, role: 'dead-letter', external: false },
      { topic: 'user_action', partitions: 1, role: 'source', external: true },
      { topic: 'click_rank', partitions: 1, role: 'sink', external: true },
    ],
  });
  checkMachineIndependent(read, dir);

  // The image holds only what the Dockerfile copies: enough for every stage worker to start.
  const image = tempDir('pipec-image-');
  for (const file of copied) fs.copyFileSync(path.join(dir, file), path.join(image, file));
  for (const stage of manifest.stages) {
    const run = runNode(path.join(image, stage.file), ['--help'], { cwd: image });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /--metrics-port/);
  }

  // A second build gives the same bytes.
  const again = await buildFile('dsl-examples/click-rank.ts');
  assert.deepEqual([...again.files!.keys()].sort(), [...result.files!.keys()].sort());
  for (const [name, contents] of result.files!) assert.ok(Buffer.from(contents).equals(Buffer.from(again.files!.get(name)!)), `${name} differs between builds`);
});

test('stages at different parallelism get that many replicas, and repartition topics that many partitions', async () => {
  const { read, dir, manifest, workloads, config } = await built('test/fixtures/deploy/fraud-alerts.ts');
  assert.deepEqual(manifest.stages.map((s) => s.parallelism), [3, 2, 3]);
  checkWorkloads(manifest, workloads, config);
  assert.deepEqual(workloads.map((w) => w.spec.replicas), [3, 2, 3]);
  assert.deepEqual(workloads.map((w) => w.metadata.name), ['fraud-alerts-stage-0', 'fraud-alerts-stage-1', 'fraud-alerts-stage-2'], 'lowercase names from Fraud-Alerts');
  const topics = JSON.parse(read('topics.json')).topics as Array<{ topic: string; partitions: number; role: string }>;
  assert.deepEqual(topics.filter((t) => t.role === 'repartition').map((t) => [t.topic, t.partitions]), manifest.edges.map((e) => [e.topic, manifest.stages[e.to].parallelism]));
  assert.deepEqual(topics.find((t) => t.role === 'source'), { topic: 'payments', partitions: 3, role: 'source', external: true });
  checkMachineIndependent(read, dir);
});

test('wordcount: the stage that reads a file is a Job, the stage after it a Deployment', async () => {
  const { result, read, dir, manifest, workloads, config } = await built('dsl-examples/wordcount.ts');
  checkWorkloads(manifest, workloads, config);
  assert.deepEqual(workloads.map((w) => `${w.apiVersion} ${w.kind}`), ['batch/v1 Job', 'apps/v1 Deployment']);
  const [source, counts] = workloads.map((w) => w.spec.template.spec.containers[0]);
  assert.equal(source.livenessProbe?.httpGet.path, '/healthz', 'a worker that runs its sources answers /healthz while it runs');
  assert.equal(counts.readinessProbe?.httpGet.path, '/healthz');
  checkMachineIndependent(read, dir);

  // Credentials come from a Secret: a stage that needed PIPEC_REDIS_URL (its connector is not in this release) gets it by reference.
  const withRedis: Manifest = { ...manifest, stages: manifest.stages.map((s) => (s.id === 1 ? { ...s, env: [...s.env, 'PIPEC_REDIS_URL'] } : s)) };
  const files = deploymentFiles(result.plan!, result.physical!, withRedis);
  const secretConfig = parseYaml(files['k8s/config.yaml'], 'k8s/config.yaml');
  assert.deepEqual(secretConfig.map((o) => `${o.kind}/${o.metadata.name}`), ['ConfigMap/wordcount-config', 'Secret/wordcount-secrets']);
  assert.deepEqual(Object.keys(secretConfig[1].stringData!), ['PIPEC_REDIS_URL']);
  assert.ok(!('PIPEC_REDIS_URL' in (secretConfig[0].data ?? {})), 'a credential is never in the ConfigMap');
  const redisWorkloads = parseYaml(files['k8s/stages.yaml'], 'k8s/stages.yaml');
  checkWorkloads(withRedis, redisWorkloads, secretConfig);
  const redis = redisWorkloads[1].spec.template.spec.containers[0].env!.find((e) => e.name === 'PIPEC_REDIS_URL');
  assert.deepEqual(redis?.valueFrom, { secretKeyRef: { name: 'wordcount-secrets', key: 'PIPEC_REDIS_URL' } });
});

test('Kubernetes names are lowercase DNS labels derived from the pipeline name', () => {
  assert.equal(kubernetesName('click-rank'), 'click-rank');
  assert.equal(kubernetesName('Fraud-Alerts'), 'fraud-alerts');
  const long = kubernetesName(`a${'-very-long-pipeline-name'.repeat(5)}`);
  assert.ok(long.length <= 45 && DNS_LABEL.test(long), long);
  assert.notEqual(long, kubernetesName(`a${'-very-long-pipeline-name'.repeat(6)}`), 'a hash keeps cut names apart');
});

const cli = path.join(repoRoot, 'compiler/cli/bin.ts');

function pipec(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('pipec deploy-topics creates what topics.json lists, as it does from the pipeline file', async (t) => {
  const { dir } = await built('test/fixtures/deploy/fraud-alerts.ts');
  const env = { PIPEC_KAFKA_BROKERS: kafkaBrokers(), PIPEC_TOPIC_PREFIX: freshName('deploy-') + '-' };
  t.after(() => deleteTopics(env.PIPEC_TOPIC_PREFIX));
  const fromList = pipec(['deploy-topics', path.join(dir, 'topics.json')], env);
  assert.equal(fromList.status, 0, fromList.stderr);
  const owned = fromList.stdout.split('\n').filter((l) => l.startsWith(env.PIPEC_TOPIC_PREFIX));
  assert.deepEqual(owned, [
    `${env.PIPEC_TOPIC_PREFIX}Fraud-Alerts-window-4-repartition: 2 partition(s)`,
    `${env.PIPEC_TOPIC_PREFIX}Fraud-Alerts-filter-5-repartition: 3 partition(s)`,
    `${env.PIPEC_TOPIC_PREFIX}Fraud-Alerts-dlq: 1 partition(s)`,
  ]);
  assert.match(fromList.stdout, /^payments: (missing|\d+ partition\(s\)) \(external source topic, left as it is\)$/m);
  assert.match(fromList.stdout, /^fraud_alerts: (missing|\d+ partition\(s\)) \(external sink topic, left as it is\)$/m);
  const fromPipeline = pipec(['deploy-topics', 'test/fixtures/deploy/fraud-alerts.ts'], env);
  assert.equal(fromPipeline.status, 0, fromPipeline.stderr);
  assert.deepEqual(fromPipeline.stdout.split('\n').filter((l) => l.startsWith(env.PIPEC_TOPIC_PREFIX)), owned);

  const broken = path.join(tempDir(), 'topics.json');
  fs.writeFileSync(broken, JSON.stringify({ pipeline: 'x', topics: [{ topic: 'y', partitions: 0, role: 'repartition', external: false }] }));
  const refused = pipec(['deploy-topics', broken], env);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /topics\[0\]: expected/);
});
