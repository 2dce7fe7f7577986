/**
 * The `pipec` command line (yargs): build, check, graph, run, deploy-topics, explain.
 * Exit codes: 0 ok, 1 diagnostics (or the job failed), 2 usage, 3 internal error.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import yargs from 'yargs';
import { build, check, type Analysis, type BuildResult } from '../index.ts';
import { watchBuild } from './watch.ts';
import { DIAGNOSTIC_TABLE, hasErrors, type Diagnostic } from '../diagnostics/index.ts';
import { formatDiagnostics } from '../diagnostics/format.ts';
import { nodeHost, pipecVersion } from '../host.ts';
import { planText, toDot, toMermaid } from '../graph.ts';
import { sinkGuarantees } from '../phases/5-generate/workers.ts';
import type { LogicalPlan } from '../ir/logical-plan.ts';
import { parseTopicList, topicListOf, type DeploymentTopic, type TopicList } from '../phases/5-generate/topics.ts';

/** Exit codes. */
export const EXIT = { ok: 0, diagnostics: 1, usage: 2, internal: 3 } as const;

function report(diagnostics: Diagnostic[], json: boolean): void {
  if (json) process.stdout.write(JSON.stringify({ diagnostics }, null, 2) + '\n');
  else if (diagnostics.length) process.stderr.write(formatDiagnostics(diagnostics));
}

const fileArg = { describe: 'the pipeline file (its default export is a pipeline(...))', type: 'string', default: 'pipeline.ts' } as const;
const jsonArg = { describe: 'print diagnostics as JSON on stdout (for CI)', type: 'boolean', default: false } as const;
const previousArg = { describe: "the deployed build's manifest.json: report state this build would drop or could not restore", type: 'string' } as const;
const allowStateLossArg = { describe: 'build even though the state of operators that are gone will be dropped (PC1131 becomes warning PC2131)', type: 'boolean', default: false } as const;

/** `  state: checked against dist/job/manifest.json` when the build was compared with a previous one. */
/** Which guarantee each sink of a streaming job gets after a failure (printed by build). */
function guaranteeLine(plan: LogicalPlan): string {
  const sinks = sinkGuarantees(plan);
  if (sinks.length === 0) return '';
  return `  stage workers after a failure (checkpoints every ${plan.checkpoint.interval} ms): ${sinks.map((s) => `${s.sink} ${s.guarantee}`).join(', ')}\n`;
}

function stateCheckLine(analysis: Analysis | null): string {
  return analysis?.previousManifest ? `  state: checked against ${analysis.previousManifest}\n` : '';
}

/** Runs the CLI and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const host = nodeHost(process.cwd());
  const parser = yargs(argv)
    .scriptName('pipec')
    .usage('pipec compiles a typed pipeline file into fused, standalone Node workers.\n\nUsage: $0 <command> [pipeline.ts] [options]')
    .command('build [file]', 'type-check, plan, fuse and bundle into <out>/<name>/ (stage-N.mjs, local.mjs, manifest.json); check that the state of the previous build is kept', (y) => y
      .positional('file', fileArg)
      .option('out', { describe: 'output folder', type: 'string', default: 'dist' })
      .option('previous', { ...previousArg, describe: `${previousArg.describe} (default: the manifest.json already in <out>/<name>/)` })
      .option('allow-state-loss', allowStateLossArg)
      .option('watch', { describe: 'build again whenever the pipeline file or a file it imports changes (until Ctrl-C)', type: 'boolean', default: false })
      .option('json', jsonArg), async (args) => {
      const options = { previous: args.previous ? { manifest: args.previous } : { out: args.out }, allowStateLoss: args['allow-state-loss'] };
      const done = (result: BuildResult, ms?: number) => {
        report(result.diagnostics, args.json);
        if (result.outDir) {
          const relative = path.relative(process.cwd(), result.outDir) || '.';
          if (!args.json) process.stderr.write(`built ${result.plan!.pipeline}${ms === undefined ? '' : ` in ${Math.round(ms)} ms`}: ${result.physical!.stages.length} stage(s), ${result.plan!.mode} mode → ${relative}/\n  run all stages: node ${relative}/local.mjs\n${guaranteeLine(result.plan!)}${stateCheckLine(result.analysis)}`);
        } else if (ms !== undefined && !args.json) process.stderr.write(`build failed after ${Math.round(ms)} ms; watching for changes\n`);
        code = hasErrors(result.diagnostics) ? EXIT.diagnostics : EXIT.ok;
      };
      if (args.watch) {
        await watchBuild(host, args.file, args.out, options, done);
        code = EXIT.ok;
        return;
      }
      done(await build(host, args.file, args.out, options));
    })
    .command('check [file]', 'type-check and analyze only; write nothing', (y) => y
      .positional('file', fileArg)
      .option('previous', previousArg)
      .option('allow-state-loss', allowStateLossArg)
      .option('json', jsonArg), async (args) => {
      const result = await check(host, args.file, { previous: args.previous ? { manifest: args.previous } : undefined, allowStateLoss: args['allow-state-loss'] });
      report(result.diagnostics, args.json);
      if (!args.json && !hasErrors(result.diagnostics)) process.stderr.write(`${args.file}: no errors\n${stateCheckLine(result.analysis)}`);
      code = hasErrors(result.diagnostics) ? EXIT.diagnostics : EXIT.ok;
    })
    .command('graph [file]', 'print the plan: stages, fused chains and shuffles', (y) => y
      .positional('file', fileArg)
      .option('format', { describe: 'output format', choices: ['mermaid', 'dot', 'text'] as const, default: 'mermaid' as const })
      .option('json', jsonArg), async (args) => {
      const result = await check(host, args.file);
      report(result.diagnostics, args.json);
      if (result.plan && result.physical) {
        const render = args.format === 'dot' ? toDot : args.format === 'text' ? planText : toMermaid;
        process.stdout.write(render(result.plan, result.physical));
      }
      code = hasErrors(result.diagnostics) ? EXIT.diagnostics : EXIT.ok;
    })
    .command('run [file]', 'build, then run every stage in one process (local.mjs); arguments after -- go to the job', (y) => y
      .positional('file', fileArg)
      .option('out', { describe: 'output folder', type: 'string', default: 'dist' })
      .option('fail-fast', { describe: 'stop at the first record that cannot be decoded', type: 'boolean', default: false }), async (args) => {
      const result = await build(host, args.file, args.out);
      report(result.diagnostics, false);
      if (!result.outDir) { code = EXIT.diagnostics; return; }
      const jobArgs = [...(args['fail-fast'] ? ['--fail-fast'] : []), ...((args['--'] as string[] | undefined) ?? []).map(String)];
      code = await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ['--enable-source-maps', path.join(result.outDir!, 'local.mjs'), ...jobArgs], { stdio: 'inherit' });
        child.on('exit', (status) => resolve(status ?? EXIT.internal));
      });
    })
    .command('deploy-topics [file]', 'create the Kafka topics pipec owns for a pipeline (repartition topics, partitions = the parallelism of the stage that reads each, and <pipeline>-dlq) and report the topics it reads and writes', (y) => y
      .positional('file', { ...fileArg, describe: 'the pipeline file, or the topics.json its build wrote (dist/<name>/topics.json)' })
      .option('brokers', { describe: 'Kafka brokers (default: PIPEC_KAFKA_BROKERS)', type: 'string' }), async (args) => {
      let list: TopicList;
      if (args.file.endsWith('.json')) {
        const parsed = fs.existsSync(args.file) ? parseTopicList(fs.readFileSync(args.file, 'utf8')) : { error: 'no such file' };
        if ('error' in parsed) { process.stderr.write(`${args.file}: ${parsed.error}\n`); code = EXIT.usage; return; }
        list = parsed;
      } else {
        const result = await check(host, args.file);
        report(result.diagnostics, false);
        if (!result.plan || !result.physical) { code = EXIT.diagnostics; return; }
        list = topicListOf(result.plan, result.physical);
      }
      // The prefix namespaces the topics pipec owns, as in the workers; the pipeline's own topics keep their names.
      const prefix = process.env.PIPEC_TOPIC_PREFIX ?? '';
      const nameOf = (t: DeploymentTopic) => (t.external ? t.topic : `${prefix}${t.topic}`);
      const owned = (repartition: boolean) => list.topics.filter((t) => !t.external && (t.role === 'repartition') === repartition).map((t) => ({ topic: nameOf(t), partitions: t.partitions }));
      const { brokersFromEnvironment, kafkajsClient } = await import('../../runtime/internal/kafka/client.ts');
      const { createLogger } = await import('../../runtime/internal/log.ts');
      const log = createLogger(list.pipeline, 'deploy-topics');
      // Asking for the partitions of a missing external topic makes the client warn; the report says it is missing.
      if (!process.env.PIPEC_LOG_LEVEL) log.level = 'error';
      const client = kafkajsClient(brokersFromEnvironment(args.brokers), 'pipec-deploy-topics', log);
      try {
        // Repartition topics grow with the parallelism of their readers; the dead-letter topic is only created.
        await client.ensureTopics(owned(true), { grow: true });
        await client.ensureTopics(owned(false));
        for (const t of list.topics) {
          const partitions = await client.partitions(nameOf(t));
          if (!t.external) process.stdout.write(`${nameOf(t)}: ${partitions} partition(s)\n`);
          else process.stdout.write(`${nameOf(t)}: ${partitions ? `${partitions} partition(s)` : 'missing'} (external ${t.role} topic, left as it is)\n`);
        }
      } finally {
        await client.close();
      }
    })
    .command('explain <code>', 'explain a diagnostic code, with an example', (y) => y.positional('code', { type: 'string', demandOption: true }), (args) => {
      const entry = Object.values(DIAGNOSTIC_TABLE).find((d) => d.code === String(args.code).toUpperCase());
      if (!entry) { process.stderr.write(`unknown diagnostic code ${args.code}\n`); code = EXIT.usage; return; }
      process.stdout.write(`${entry.code} ${entry.name}\n\n${entry.explanation}\n\nFix: ${entry.hint}\n`);
    })
    .demandCommand(1, 'Give a command: build, check, graph, run or explain.')
    .parserConfiguration({ 'populate--': true })
    .example('$0 run dsl-examples/wordcount.ts', 'build and run the word count')
    .example('$0 build pipeline.ts --out dist', 'write dist/<name>/stage-N.mjs, local.mjs, manifest.json')
    .example('$0 graph pipeline.ts --format dot | dot -Tsvg > plan.svg', 'draw the plan')
    .strict()
    .version(pipecVersion)
    .help()
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`${message}\n\nRun 'pipec --help' for usage.\n`);
      code = EXIT.usage;
    });
  try {
    await parser.parseAsync();
  } catch (error) {
    process.stderr.write(`pipec: internal error: ${error instanceof Error ? error.stack : String(error)}\nPlease report this with the pipeline file that caused it.\n`);
    return EXIT.internal;
  }
  return code;
}
