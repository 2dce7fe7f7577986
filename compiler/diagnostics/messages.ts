/**
 * The table of pipec's own diagnostics. One entry per code: a name, the
 * message template ({placeholders} filled from arguments), a hint and a short
 * explanation with an example (`pipec explain` reads it).
 * Codes are sorted; PC1xxx are errors, PC2xxx warnings.
 */

/** One diagnostic's definition. */
export interface DiagnosticDefinition {
  code: `PC${number}`;
  name: string;
  message: string;
  hint: string;
  explanation: string;
}

/** All definitions, keyed by a camelCase name used by the factory functions. */
export const DIAGNOSTIC_TABLE = {
  capturedMutableState: {
    code: 'PC1001', name: 'captured_mutable_state',
    message: "The {operator} function {access} '{variable}' ({declaration}), which is declared outside it.",
    hint: "Each worker would get its own copy, and it is not checkpointed. Keep per-key data in keyed state (ctx.state.value(...)) inside keyBy(...).process(...), or make '{variable}' a const that is never changed.",
    explanation: 'Operator functions run in many worker processes and are replayed after a failure. A variable they share with the code around them is neither shared between workers nor restored from a checkpoint, so results would differ per worker and after recovery.\n\n    let seen = 0;\n    stream.map((x) => ({ ...x, n: ++seen }));   // PC1001',
  },
  nonDeterministicCall: {
    code: 'PC1002', name: 'non_deterministic_call',
    message: "{call} in a {operator} function gives a different result when the function is replayed after a failure.",
    hint: 'Derive values from the record (for time, use ctx.timestamp or assignTimestamps), or produce them in a generator(...) source, whose output is recorded. Add `// pipec-ignore PC1002` on the line above if this is intended.',
    explanation: 'After a failure pipec replays input from the last checkpoint. Operators must compute the same output from the same input, or the replayed output differs from what was already written.\n\n    stream.map((x) => ({ ...x, id: Math.random() }));   // PC1002',
  },
  eventTimeWithoutTimestamps: {
    code: 'PC1003', name: 'event_time_without_timestamps',
    message: 'This {assigner} window uses event time, but its input stream has no timestamps.',
    hint: "Call .assignTimestamps((r) => r.ts, { maxOutOfOrderness: '2s' }) before keyBy, or use processing time: windows.{assigner}({ ..., time: 'processing' }).",
    explanation: 'Event-time windows fire when the watermark passes their end. Without assignTimestamps there are no timestamps and no watermarks, so the window would never fire (Flink finds this at run time).\n\n    stream.keyBy((r) => r.user).window(windows.tumbling({ size: \'1m\' }))   // PC1003',
  },
  invalidKeyType: {
    code: 'PC1004', name: 'invalid_key_type',
    message: "The key function returns '{type}'; keys must be a string, a number or a bigint.",
    hint: "Return a primitive key, for example a string built from the fields: (r) => r.user + ':' + r.region.",
    explanation: 'Keys are hashed to choose a partition and compared to find keyed state. Objects have no stable hash and compare by identity, so equal-looking keys would land on different workers.\n\n    stream.keyBy((r) => ({ user: r.user }))   // PC1004',
  },
  asyncFunction: {
    code: 'PC1005', name: 'async_function',
    message: 'The {operator} function is asynchronous; operator functions must return their result synchronously.',
    hint: 'Remove async and return the value itself. To call a database or service per record, use .asyncMap(fn, { capacity, timeout }) instead, which awaits the calls (up to capacity at once, checkpointed, failures to the dead-letter output); or load a lookup table in a process function\'s async open().',
    explanation: 'A fused chain calls every function inline for each record. A Promise would be passed downstream as the record itself. asyncMap (Flink\'s async I/O) is the operator for calls that return a promise.\n\n    stream.map(async (x) => lookup(x))                                // PC1005\n    stream.asyncMap((x) => lookup(x), { capacity: 100, timeout: \'2s\' })   // awaited, in input order',
  },
  noPipelineExport: {
    code: 'PC1006', name: 'no_pipeline_export',
    message: 'The file does not export a pipeline as its default export.',
    hint: "End the file with: export default pipeline('my-job', (p) => p.source(...).sink(...));",
    explanation: 'pipec builds the value of the default export, which must come from pipeline(...) in the pipec package.',
  },
  buildFunctionThrew: {
    code: 'PC1007', name: 'build_function_threw',
    message: 'Planning the pipeline failed: {error}',
    hint: 'Fix the error at this line; the build function runs once at build time and once in every worker when it starts.',
    explanation: 'pipec runs the function passed to pipeline(...) to learn the graph. It must not throw.',
  },
  sessionWindowNeedsMerge: {
    code: 'PC1008', name: 'session_window_needs_merge',
    message: 'This aggregate function has no merge(a, b) method, which session windows need.',
    hint: 'Add merge(a, b) that combines two accumulators, or use one of the agg.* functions.',
    explanation: 'Session windows merge when an element bridges two of them, so their accumulators must merge too.',
  },
  sinkOverwritesInput: {
    code: 'PC1101', name: 'sink_overwrites_input',
    message: "This sink writes '{path}', which the {source} source at line {line} reads.",
    hint: 'Write the output to a file that no source path or glob of this job matches (another name or folder).',
    explanation: "A file sink replaces its file with the job's output, so a sink that writes one of the job's own input files would destroy that input, and the next run would read the last run's output instead.\n\n    p.source(file.lines('data.txt')).map((l) => l.trim()).sink(file.lines('data.txt'));   // PC1101",
  },
  duplicateFileSink: {
    code: 'PC1102', name: 'duplicate_file_sink',
    message: "This sink writes '{path}', which the sink at line {line} also writes.",
    hint: 'Give each sink its own file, or union the streams first and use one sink: a.union(b).sink(...).',
    explanation: 'Two sinks writing the same file would overwrite or interleave each other, and which output survives would depend on timing.\n\n    a.sink(file.jsonl(\'out.jsonl\'));\n    b.sink(file.jsonl(\'out.jsonl\'));   // PC1102',
  },
  planTimedOut: {
    code: 'PC1110', name: 'plan_timed_out',
    message: '{what} did not finish within {limit}; it was stopped {where}.',
    hint: "The build function only describes the job and must return quickly: look for a loop that never ends or a long computation, and do work on records in operators instead. If loading really takes longer, raise the limit with PIPEC_PLAN_TIMEOUT (for example PIPEC_PLAN_TIMEOUT=30s).",
    explanation: "pipec evaluates the pipeline module and runs its build function to learn the graph, in a separate process with a time limit (10 s, or PIPEC_PLAN_TIMEOUT), so that code that never returns stops the build with this error instead of hanging it. Every worker runs the build function again at start-up, so it must be quick there too.\n\n    export default pipeline('job', (p) => { while (true) {} });   // PC1110",
  },
  resourceLeftOpen: {
    code: 'PC1111', name: 'resource_left_open',
    message: '{resource} was left open by the pipeline module {when}.',
    hint: 'Do not start timers or open connections in the pipeline file: use a generator(...) source for periodic data, a connector for servers, or open the connection in a process function\'s open() and close it in close().',
    explanation: "A pipeline file only describes the job. pipec evaluates it at build time, and every worker and local.mjs evaluates it again at start-up; a timer, socket or server it leaves open would keep each of them running after the job's input ends (the build used to hang on it).\n\n    setInterval(() => refreshCache(), 60_000);   // PC1111\n    export default pipeline('job', (p) => ...);",
  },
  invalidPlanTimeout: {
    code: 'PC1112', name: 'invalid_plan_timeout',
    message: "PIPEC_PLAN_TIMEOUT is '{value}', which is not a positive duration.",
    hint: "Set it to a number of milliseconds or a duration such as '30s', or unset it for the default of 10 s.",
    explanation: "PIPEC_PLAN_TIMEOUT sets how long the pipeline module may take to load and run its build function at build time (PC1110).\n\n    PIPEC_PLAN_TIMEOUT=30s npx pipec build pipeline.ts",
  },
  recordCannotCross: {
    code: 'PC1120', name: 'record_cannot_cross',
    message: 'The records {operator} sends to {consumer} in another stage cannot cross a process boundary: {field} is {what}.',
    hint: 'Convert the record to plain data (strings, numbers, bigint, Date, Map, Set, arrays, plain objects) in a .map(...) before the {operator}, or create the value after the shuffle.',
    explanation: "Records that cross a keyBy, a rebalance or a parallelism change travel through a Kafka topic to another worker process, encoded from the record's TypeScript type. Functions, symbols, promises and instances of classes with methods have no meaning in another process.\n\n    stream.map((r) => ({ ...r, format: () => r.name.toUpperCase() })).keyBy((r) => r.name)   // PC1120",
  },
  duplicateUid: {
    code: 'PC1130', name: 'duplicate_uid',
    message: "The uid '{uid}' is also {whose} of the {other} at line {line}.",
    hint: 'Give each operator its own uid: the runtime keeps an operator\'s checkpointed state under its uid, so two operators with one uid would restore each other\'s state.',
    explanation: "An operator's uid (`.uid(id)`, or a default made from its label) is the identity its checkpointed state is kept under, so it must be unique within the pipeline.\n\n    stream.keyBy((r) => r.user).sum('clicks').uid('totals')\n    stream.keyBy((r) => r.page).sum('clicks').uid('totals')   // PC1130",
  },
  stateDropped: {
    code: 'PC1131', name: 'state_dropped',
    message: "The state of the previous version's {operator} (uid '{uid}': {state}) would be dropped: {reason}.",
    hint: "Give the operator that takes its place .uid('{uid}') to keep its state, or build with --allow-state-loss to start without it.",
    explanation: "`pipec build` compares the pipeline with the previous build's manifest.json (the one in the output folder, or `--previous <manifest.json>`). Checkpointed state is kept under each operator's uid; a stateful operator whose uid is gone (removed, or its default uid changed because its label did) would start empty after the upgrade, and its old state would be lost. Keep the uid with `.uid(id)`, or say the loss is intended with `--allow-state-loss` (then this is warning PC2131).\n\n    // previous build: .keyBy((r) => r.user).sum('clicks')            default uid 'sum(clicks)'\n    .keyBy((r) => r.user).sum('views')                              // PC1131\n    .keyBy((r) => r.user).sum('views').uid('sum(clicks)')           // keeps the totals",
  },
  stateIncompatible: {
    code: 'PC1132', name: 'state_incompatible',
    message: "{what} of this {operator} {change}: the previous version's checkpoint cannot be restored into it.",
    hint: 'Keep the state as it was, or give the new state another name (for built-in state, the operator another uid) so that it starts empty and the old state is dropped.',
    explanation: "When an upgraded pipeline starts from the previous version's checkpoint, each operator's state is restored by uid and state name. A state whose kind changed (a value became a list), whose type no longer accepts what was stored (a field changed type, a required field was added), or whose windows changed shape would be restored into something that cannot read it. Adding an optional field or widening a type is compatible.\n\n    // previous build: ctx.state.value<number>('count')\n    ctx.state.value<string>('count')   // PC1132",
  },
  previousManifestUnreadable: {
    code: 'PC1133', name: 'previous_manifest_unreadable',
    message: "The previous manifest {file} cannot be compared with: {reason}.",
    hint: "Pass the manifest.json of the deployed build with --previous <manifest.json>.",
    explanation: "`pipec build` checks state compatibility against the previous build's manifest.json: `--previous <manifest.json>`, or the one already in the output folder. The file must be a manifest written by pipec for the same pipeline.\n\n    npx pipec build pipeline.ts --previous deployed/manifest.json",
  },
  joinKeyTypesDiffer: {
    code: 'PC1140', name: 'join_key_types_differ',
    message: "The keys of this {join} have different types: the first stream's key is '{left}', the second's is '{right}', so no key of one side can equal a key of the other.",
    hint: 'Give both sides keys of one type, for example String(r.id) on the side whose id is a number.',
    explanation: "A join pairs elements whose keys are equal, and keys are compared as they are: the number 1 and the string '1' are different keys (they are hashed and stored apart), so a join of a number key with a string key would never produce a pair. TypeScript accepts the call because each key function is typed on its own.\n\n    orders.join(users).where((o) => o.userId).equalTo((u) => u.id)   // PC1140 when userId is a number and id a string\n    a.keyBy((x) => x.id).intervalJoin(b.keyBy((y) => String(y.id)))   // PC1140 when x.id is a number",
  },
  intervalJoinWithoutTimestamps: {
    code: 'PC1141', name: 'interval_join_without_timestamps',
    message: 'This interval join needs event time, but its {side} input has no timestamps.',
    hint: "Call .assignTimestamps((r) => r.ts, { maxOutOfOrderness: '2s' }) on the {side} stream before its keyBy.",
    explanation: 'An interval join pairs elements by their timestamps (right.ts within [left.ts + lower, left.ts + upper]) and drops its buffered elements as the watermark passes them, so both inputs need timestamps and watermarks; interval joins have no processing-time variant (as in Flink).\n\n    clicks.keyBy((c) => c.user).intervalJoin(orders.keyBy((o) => o.user)).between(\'-5m\', \'0s\')   // PC1141 without assignTimestamps on both',
  },
  invalidMetric: {
    code: 'PC1150', name: 'invalid_metric',
    message: '{what} {problem}.',
    hint: "Name user metrics and their labels like Prometheus names: letters, digits and underscores, not starting with a digit (orders_total, status). Names starting with 'pipec_' are pipec's own, and pipeline, stage, operator, uid and task are the labels pipec adds to every user metric.",
    explanation: "ctx.metrics.counter / gauge / histogram(name, help, labels) are exported on the worker's /metrics endpoint under `name`, with the operator's labels (pipeline, stage, operator, uid, task) and the label names given. Prometheus cannot scrape a metric whose name or labels are not Prometheus names, and a user label named like one of pipec's would hide it. A name that is computed at run time is checked when the function runs (the record goes to the dead-letter output).\n\n    ctx.metrics.counter('orders-seen').inc()                      // PC1150: '-'\n    ctx.metrics.counter('orders_seen', 'Orders', ['task']).inc()    // PC1150: pipec's label",
  },
  metricClash: {
    code: 'PC1151', name: 'metric_clash',
    message: "The metric '{name}' is {use} here, but {other} at line {line}.",
    hint: 'One name is one metric on /metrics, with one type, one set of labels and one help text: give this one another name, or use it the same way in both places.',
    explanation: "Several operators may share a user metric (each gets series of its own through the operator labels), but only with the same type, labels and help text: Prometheus keeps one type and one help per metric name, and one set of label names per metric.\n\n    ctx.metrics.counter('errors').inc();     // in one process function\n    ctx.metrics.gauge('errors').set(3);      // PC1151 in another",
  },
  invalidConnectorOption: {
    code: 'PC1160', name: 'invalid_connector_option',
    message: '{feature}.',
    hint: '{hint}',
    explanation: "A connector's options are checked at build time: an option it does not have (a misspelling would otherwise be ignored), a missing one it needs, or a value out of range. Server addresses and credentials are not options: they come from the environment at run time (PIPEC_MYSQL_URL, PIPEC_REDIS_URL).\n\n    const options = { table: 'scores', key: ['user'], batchsize: 500 };\n    stream.sink(mysql.upsert(options));   // PC1160: mysql.upsert has no option 'batchsize'",
  },
  notSupportedYet: {
    code: 'PC1900', name: 'not_supported_yet',
    message: '{feature} is not supported by this version of pipec yet.',
    hint: '{hint}',
    explanation: 'The DSL declares the whole surface so pipelines type-check, but the runtime of some features comes in later releases. pipec refuses to build a pipeline it cannot run rather than run it wrongly.',
  },
  streamWithoutSink: {
    code: 'PC2001', name: 'stream_without_sink',
    message: 'The result of this {operator} is never used: it has no sink and no downstream operator.',
    hint: 'Add .sink(...) (for example .sink(print())), or remove the operator.',
    explanation: 'An operator whose output goes nowhere does work that nobody sees.',
  },
  mixedWorkerSources: {
    code: 'PC2002', name: 'mixed_worker_sources',
    message: "The {source} is in stage {stage}, which reads Kafka: the job runs in local.mjs, but stage {stage}'s worker cannot run it.",
    hint: 'Read this input from a Kafka topic too (kafka.source), or give its branch its own stage with .rebalance() before it meets the Kafka input.',
    explanation: 'A stage worker reads Kafka through its consumer group, one task per partition, and cannot also run a bounded source such as a file or a collection. local.mjs runs every stage in one process and has no such limit.\n\n    const rules = p.source(collection([...]));\n    p.source(kafka.source({...})).keyBy(...).connect(rules.keyBy(...))   // PC2002',
  },
  dynamicStateName: {
    code: 'PC2130', name: 'dynamic_state_name',
    message: "The name of this {kind} state is computed at run time, so upgrades cannot be checked to keep it.",
    hint: "Name the state with a string literal or a const string, as in ctx.state.{kind}('count'); to keep one value per computed name, use one map state keyed by it.",
    explanation: "`pipec build` records each state of a keyed function in manifest.json, by name with its kind and type, and compares them with the previous build, so that an upgrade that would drop or misread state is found before it is deployed. A name computed at run time cannot be recorded, so this operator's state names are not compared.\n\n    ctx.state.value<number>(`count-${kind}`)   // PC2130",
  },
  stateDroppedAllowed: {
    code: 'PC2131', name: 'state_dropped_allowed',
    message: "The state of the previous version's {operator} (uid '{uid}': {state}) will be dropped: {reason}.",
    hint: "--allow-state-loss is set. To keep the state instead, give the operator that takes its place .uid('{uid}').",
    explanation: "PC1131 under --allow-state-loss: the build goes on, and the upgraded job starts without this state.",
  },
  stateRenamed: {
    code: 'PC2132', name: 'state_renamed',
    message: "The {kind} state '{name}' of this {operator} is new, and the previous version's {kind} state '{previous}' is gone: if it was renamed, its data will not be restored.",
    hint: "Keep the name '{previous}' to keep its data; if '{name}' is meant to start empty, nothing needs to change.",
    explanation: "State is restored by name. When a state disappears from an operator while another of the same kind appears, it looks renamed: the new name starts empty and the old state is dropped.\n\n    // previous build: ctx.state.value<number>('count')\n    ctx.state.value<number>('total')   // PC2132",
  },
  previousManifestWithoutState: {
    code: 'PC2133', name: 'previous_manifest_without_state',
    message: "The previous manifest {file} was written by pipec {version}, which did not record operator uids and state: state compatibility is not checked.",
    hint: 'Deploy this build; the next one is checked against its manifest.',
    explanation: "Manifests record each operator's uid and state since uids were introduced; an older manifest has nothing to compare with, so the first build after upgrading pipec is not checked.",
  },
  generatorStateInClosure: {
    code: 'PC2140', name: 'generator_state_in_closure',
    message: "This watermark generator keeps '{variable}' in a variable of its factory, which is not checkpointed: after a restart it starts over.",
    hint: "Make it a field of the generator (this.{variable}, or a class field): a generator's own fields are checkpointed with the job and restored. Add `// pipec-ignore PC2140` on the line above if starting over is intended.",
    explanation: "A user watermark generator's state is its own enumerable data fields: they are checkpointed with the task and restored after a restart. A variable of the factory that its methods change lives in a closure, which a checkpoint cannot see, so after a kill and restart the generator would start from the variable's first value (its watermarks could fall behind, holding windows back).\n\n    watermarks.forGenerator(() => { let max = 0; return { onEvent(e, ts) { max = Math.max(max, ts); }, onPeriodicEmit(out) { out.emitWatermark(max - 1); } }; })   // PC2140\n    watermarks.forGenerator(() => ({ max: 0, onEvent(e, ts) { this.max = Math.max(this.max, ts); }, onPeriodicEmit(out) { out.emitWatermark(this.max - 1); } }))",
  },
} as const satisfies Record<string, DiagnosticDefinition>;

/** The camelCase names of the diagnostics. */
export type DiagnosticName = keyof typeof DIAGNOSTIC_TABLE;
