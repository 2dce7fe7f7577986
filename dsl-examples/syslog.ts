// Log parsing with your own function: syslog lines are parsed by
// parseSyslog (./syslog-parse.ts, built on the glossy package); lines that do
// not parse go to the 'unparsed' side output instead of stopping the job.
// Parsed entries are written as JSON lines, and errors per host are counted.
//
//   npx pipec run dsl-examples/syslog.ts
import { pipeline, file, print, sideOutput, type Context } from 'pipec';
import { parseSyslog, type SyslogEntry } from './syslog-parse.ts';

const unparsed = sideOutput<string>('unparsed');

export default pipeline('syslog', (p) => {
  const entries = p.source(file.lines(process.env.SYSLOG_INPUT ?? 'dsl-examples/data/syslog.log'))
    .process({
      processElement(line: string, ctx: Context<SyslogEntry>) {
        const entry = parseSyslog(line);
        if (entry) ctx.emit(entry);
        else ctx.output(unparsed, line);
      },
    });

  entries.sink(file.jsonl(process.env.SYSLOG_OUTPUT ?? 'syslog-out/entries.jsonl'));

  entries
    .filter((e) => e.severity === 'err' || e.severity === 'crit' || e.severity === 'alert' || e.severity === 'emerg')
    .map((e) => ({ host: e.host, errors: 1 }))
    .keyBy((e) => e.host)
    .sum('errors')
    .map((e) => `errors,${e.host},${e.errors}`)
    .sink(print());

  entries.getSideOutput(unparsed)
    .map((line) => `unparsed,${line}`)
    .sink(print());
});
