/**
 * The deployment files of a build, from templates/: `Procfile`, a
 * `Dockerfile` (one image for every stage), Kubernetes manifests
 * (`k8s/stages.yaml`: a workload per stage; `k8s/config.yaml`: the ConfigMap
 * and Secret they read, with placeholder values) and `topics.json` (the Kafka
 * topics, as `pipec deploy-topics` creates them).
 *
 * In: LogicalPlan, PhysicalPlan and the Manifest. Out: file name → text.
 * Nothing in them depends on the build machine (no paths, host names or
 * times), so a build stays byte-identical.
 */
import { runsKafkaWorker } from './workers.ts';
import crypto from 'node:crypto';
import type { Manifest, ManifestStage } from '../../../runtime/internal/manifest.ts';
import type { LogicalPlan } from '../../ir/logical-plan.ts';
import type { PhysicalPlan } from '../../ir/physical-plan.ts';
import { template } from './templates.ts';
import { topicListOf } from './topics.ts';

/** Where a worker keeps its local files in the container (PIPEC_CHECKPOINT_DIR), an emptyDir volume of its pod. */
const LOCAL_DIRECTORY = '/var/lib/pipec';

/** The container port of a worker's /metrics and /healthz, passed to it as PIPEC_METRICS_PORT (Prometheus exporters' customary range). */
export const METRICS_PORT = 9464;

/** Seconds Kubernetes waits after SIGTERM before SIGKILL: more than a checkpoint plus a worker's own shutdown (batch, flush, commit). */
export const GRACE_SECONDS = 30;

/**
 * Where a worker's environment variables come from in Kubernetes: settings
 * from the ConfigMap, credentials (URLs with passwords) from the Secret. A
 * variable not listed here (a new connector's) goes to the Secret, so a
 * credential never lands in a ConfigMap.
 */
const VARIABLES: Readonly<Record<string, { from: 'config' | 'secret'; placeholder: string; about: string }>> = {
  PIPEC_KAFKA_BROKERS: { from: 'config', placeholder: 'REPLACE-ME-kafka-bootstrap:9092', about: 'Kafka brokers, host:port[,host:port...]' },
  PIPEC_TOPIC_PREFIX: { from: 'config', placeholder: '', about: "prepended to the topics and consumer groups pipec owns (not to the pipeline's own topics); empty for none" },
  PIPEC_MYSQL_URL: { from: 'secret', placeholder: 'mysql://USER:PASSWORD@HOST:3306/DATABASE', about: 'MySQL, with credentials' },
  PIPEC_REDIS_URL: { from: 'secret', placeholder: 'redis://:PASSWORD@HOST:6379', about: 'Redis, with credentials' },
};

function variable(name: string): { from: 'config' | 'secret'; placeholder: string; about: string } {
  return VARIABLES[name] ?? { from: 'secret', placeholder: 'REPLACE-ME', about: 'needed by a connector of the pipeline' };
}

/**
 * A Kubernetes name derived from the pipeline's: lowercase letters, digits
 * and dashes, starting with a letter, short enough for `-stage-<n>` to stay a
 * 63-character label (a long name keeps its start and gains a hash of the whole).
 */
export function kubernetesName(pipeline: string): string {
  let name = pipeline.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(name)) name = `p-${name}`.replace(/-+$/, '');
  if (name.length > 45) name = `${name.slice(0, 36).replace(/-+$/, '')}-${crypto.createHash('sha256').update(pipeline).digest('hex').slice(0, 8)}`;
  return name;
}

/** How a stage's worker runs, which decides how it is deployed. */
interface StageWorkload {
  stage: ManifestStage;
  /** It runs the Kafka stage worker (it has edges to other stages: templates' runKafkaStageWorker), whose /healthz the probes ask (every worker serves /metrics and /healthz on PIPEC_METRICS_PORT). */
  metrics: boolean;
  /** It reads Kafka topics (an input edge or a kafka.source): its /healthz turns 200 once it owns input partitions. */
  consumesKafka: boolean;
  /** It reads no Kafka topic and all its sources are bounded: it ends when they end (a Job, not a Deployment). */
  finishes: boolean;
  /** The variables it needs, sorted: the stage's `env` from the manifest, and the brokers and topic prefix when it uses Kafka. */
  env: string[];
}

function workloadsOf(plan: LogicalPlan, physical: PhysicalPlan, manifest: Manifest): StageWorkload[] {
  return manifest.stages.map((stage) => {
    const sources = physical.stages[stage.id].sources.map((id) => plan.nodes[id]);
    const metrics = runsKafkaWorker(plan, stage);
    const consumesKafka = stage.inputs.length > 0 || sources.some((n) => n.kind === 'source' && n.spec.connector === 'kafka');
    const finishes = !consumesKafka && sources.every((n) => n.kind === 'source' && n.spec.bounded);
    const usesKafka = metrics || stage.connectors.includes('kafka');
    const env = [...new Set([...stage.env, ...(usesKafka ? ['PIPEC_KAFKA_BROKERS', 'PIPEC_TOPIC_PREFIX'] : [])])].sort();
    return { stage, metrics, consumesKafka, finishes, env };
  });
}

/** Lines indented by `spaces`, each ending with a newline. */
function block(spaces: number, lines: string[]): string {
  return lines.map((line) => `${' '.repeat(spaces)}${line}\n`).join('');
}

/** A YAML scalar: JSON's double-quoted strings are YAML's too. */
const quoted = (text: string) => JSON.stringify(text);

/** Drops the lines that empty template blocks leave (the Kubernetes templates have no blank lines of their own). */
const withoutBlankLines = (text: string) => text.replace(/^[ \t]*\n/gm, '');

interface Names { app: string; image: string; config: string; secret: string }

function containerBody(workload: StageWorkload, names: Names): string {
  const lines: string[] = [];
  // Every worker serves /metrics (its operators' user metrics too) and /healthz on PIPEC_METRICS_PORT.
  lines.push('ports:', '  - name: metrics', `    containerPort: ${METRICS_PORT}`);
  if (!workload.metrics) lines.push("# A stage with no edges to other stages and no Kafka input runs pipec's single-process worker: its", '# /healthz only says whether the job failed, and a failed job exits, so it gets no probes.');
  const env: string[] = [];
  env.push('- name: PIPEC_METRICS_PORT', `  value: ${quoted(String(METRICS_PORT))}`);
  if (!workload.finishes) env.push('- name: PIPEC_CHECKPOINT_DIR', `  value: ${quoted(LOCAL_DIRECTORY)}`);
  for (const name of workload.env) {
    const secret = variable(name).from === 'secret';
    env.push(`- name: ${name}`, '  valueFrom:', `    ${secret ? 'secretKeyRef' : 'configMapKeyRef'}:`, `      name: ${secret ? names.secret : names.config}`, `      key: ${name}`);
  }
  if (env.length) lines.push('env:', ...env.map((l) => `  ${l}`));
  if (!workload.finishes) {
    lines.push(
      workload.metrics
        ? '# A copy of its tasks\' state and its group member id: a restarted container is back without reading its whole changelog or waiting out its old session.'
        : '# Its checkpoints: a restarted container resumes from them (they do not follow the pod to another node).',
      'volumeMounts:', '  - name: pipec-state', `    mountPath: ${LOCAL_DIRECTORY}`,
    );
  }
  if (workload.metrics) {
    const probe = ['  httpGet:', '    path: /healthz', '    port: metrics'];
    lines.push(
      '# /healthz answers 503 with the reason when the worker cannot make progress: its consumer stopped, it has been',
      '# out of its consumer group longer than PIPEC_HEALTH_GRACE_MS (30 s), or its checkpoints are not committed.',
      'readinessProbe:', ...probe, '  periodSeconds: 10', '  failureThreshold: 3',
      'livenessProbe:', ...probe, '  initialDelaySeconds: 60', '  periodSeconds: 20', '  failureThreshold: 6',
    );
  }
  return block(10, lines);
}

function workloadYaml(workload: StageWorkload, names: Names): string {
  const { stage } = workload;
  const annotations = block(6, ['annotations:', '  prometheus.io/scrape: "true"', `  prometheus.io/port: ${quoted(String(METRICS_PORT))}`, '  prometheus.io/path: /metrics']);
  const about = workload.consumesKafka
    ? ["Its workers (replicas: the stage's parallelism) share one Kafka consumer group; more", 'replicas than the partitions of its input topics would leave some idle.']
    : ['Its sources run in one checkpointed task (all of its parallel instances in one process): keep', 'one replica; a second one would take the task over and fence this one.'];
  return withoutBlankLines(template(workload.finishes ? 'k8s/job.yaml.tpl' : 'k8s/deployment.yaml.tpl', {
    STAGE_ID: String(stage.id),
    ABOUT: block(0, about.map((line) => `# ${line}`)),
    OPERATORS: stage.operators.join(' -> ').replace(/\s+/g, ' '),
    NAME: `${names.app}-stage-${stage.id}`,
    APP: names.app,
    REPLICAS: String(workload.consumesKafka ? stage.parallelism : 1),
    PARALLELISM: '1', // a source stage's instances all run in one process (one checkpointed task)
    ANNOTATIONS: annotations,
    GRACE_SECONDS: String(GRACE_SECONDS),
    IMAGE: names.image,
    FILE: stage.file,
    CONTAINER: containerBody(workload, names),
    VOLUMES: workload.finishes ? '' : block(6, ['volumes:', '  # Kept while the pod lives, across container restarts.', '  - name: pipec-state', '    emptyDir: {}']),
  }));
}

function configYaml(plan: LogicalPlan, workloads: StageWorkload[], names: Names): string {
  const needed = [...new Set(workloads.flatMap((w) => w.env))].sort();
  const data = (from: 'config' | 'secret') => {
    const lines = needed.filter((name) => variable(name).from === from).flatMap((name) => [`# ${variable(name).about}`, `${name}: ${quoted(variable(name).placeholder)}`]);
    return lines.length ? `\n${block(2, lines).trimEnd()}` : ' {}';
  };
  const secret = needed.some((name) => variable(name).from === 'secret')
    ? template('k8s/secret.yaml.tpl', { SECRET_NAME: names.secret, APP: names.app, SECRET_DATA: data('secret') })
    : '';
  return withoutBlankLines(template('k8s/config.yaml.tpl', { PIPELINE: plan.pipeline, CONFIG_NAME: names.config, APP: names.app, CONFIG_DATA: data('config'), SECRET: secret }));
}

/** Every deployment file of the build, by path relative to `<out>/<pipeline>/`. */
export function deploymentFiles(plan: LogicalPlan, physical: PhysicalPlan, manifest: Manifest): Record<string, string> {
  const app = kubernetesName(plan.pipeline);
  const names: Names = { app, image: `pipec/${app}:latest`, config: `${app}-config`, secret: `${app}-secrets` };
  const workloads = workloadsOf(plan, physical, manifest);
  const bundles = ['local.mjs', ...manifest.stages.map((s) => s.file)].flatMap((file) => [file, `${file}.map`]);
  const about = { PIPELINE: plan.pipeline, PIPEC_VERSION: manifest.pipecVersion, SOURCE: plan.file, IMAGE: names.image };
  return {
    Procfile: template('Procfile.tpl', { PIPELINE: plan.pipeline, PROCESSES: manifest.stages.map((s) => `stage-${s.id}: node ${s.file}`).join('\n') }),
    Dockerfile: template('Dockerfile.tpl', {
      ...about, IMAGE_NAME: `pipec/${app}`, METRICS_PORT: String(METRICS_PORT),
      FILES: ['manifest.json', ...bundles].join(' \\\n     '),
    }),
    'k8s/stages.yaml': template('k8s/stages.yaml.tpl', { ...about, WORKLOADS: workloads.map((w) => workloadYaml(w, names)).join('---\n').trimEnd() }),
    'k8s/config.yaml': configYaml(plan, workloads, names),
    'topics.json': JSON.stringify(topicListOf(plan, physical), null, 2) + '\n',
  };
}
