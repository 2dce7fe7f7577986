/**
 * Where pipec's stage workers spend their time, from the V8 CPU profiles a
 * peers run writes with BENCH_PROFILE=<dir> (one folder per build and stage,
 * `peers-<workload>-<guarantee>-stage-<i>`, each holding one profile per round).
 * Profile locations are mapped through the bundles' source maps
 * (bench/.out/<build>/stage-<i>.mjs.map) to the runtime, library and generated
 * sources they come from; self time is summed per function and per category:
 * the Kafka client (fetch and decode; produce and encode; the rest), JSON,
 * pipec's runtime, the generated stage code and user functions, Node's
 * internals, other libraries, GC, idle (waiting in the event loop) and the
 * rest of V8 ("(program)").
 *
 *   node --import tsx bench/peers/profile.ts <dir>    (or at the end of a profiled run)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** A function's identity after source mapping. */
interface Place { name: string; source: string; line: number }

const maps = new Map<string, TraceMap | null>();

function mapFor(url: string): TraceMap | null {
  if (!maps.has(url)) {
    let map: TraceMap | null = null;
    try { map = new TraceMap(fs.readFileSync(`${fileURLToPath(url)}.map`, 'utf8')); } catch { map = null; }
    maps.set(url, map);
  }
  return maps.get(url)!;
}

/** Where a profile node's function is: its original source and line, through the bundle's source map. */
function place(frame: CallFrame): Place {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url.startsWith('file:')) return { name, source: frame.url, line: frame.lineNumber + 1 };
  const map = mapFor(frame.url);
  const original = map ? originalPositionFor(map, { line: frame.lineNumber + 1, column: Math.max(0, frame.columnNumber) }) : null;
  if (!original?.source) return { name, source: frame.url.replace(/^file:\/\/.*\/bench\/\.out\//, 'bench/.out/'), line: frame.lineNumber + 1 };
  return { name, source: original.source.replace(/^(\.\.\/)+/, ''), line: original.line ?? 0 };
}

/** The category of a function, by where it comes from. */
export function category(p: Place): string {
  const s = p.source;
  if (p.name === '(garbage collector)') return 'GC';
  if (p.name === '(idle)') return 'idle';
  if (p.name === '(program)') return 'V8 other ((program): compiling, runtime calls)';
  if (s.includes('node_modules/kafkajs/') || s.includes('node_modules/@platformatic/kafka/')) {
    if (/\/(consumer|requests\/fetch)\//.test(s) || /\/protocol\/decoder\.js$/.test(s) || (/\/(recordBatch|message|messageSet)\//.test(s) && /decoder/.test(s))) return 'Kafka client: fetch + decode';
    if (/\/(producer|requests\/produce)\//.test(s) || /\/protocol\/encoder\.js$/.test(s) || /\/(recordBatch|message|messageSet)\//.test(s)) return 'Kafka client: produce + encode';
    return 'Kafka client: other (connections, requests, groups)';
  }
  if (s === '' && (p.name === 'parse' || p.name === 'stringify')) return 'JSON';
  // decodeValue / encodeValue are JSON.parse and JSON.stringify (with the Buffer's UTF-8 decoding).
  if (s.endsWith('runtime/internal/kafka/formats.ts')) return 'JSON';
  if (s.endsWith('runtime/internal/kafka/client.ts')) return 'pipec runtime: kafka/client.ts';
  if (s.includes('runtime/internal/distributed/')) return 'pipec runtime: distributed/';
  if (s.includes('runtime/internal/codec/')) return 'pipec runtime: codec/ (edges)';
  if (s.includes('runtime/')) return 'pipec runtime: other (local job, operators, state, windows)';
  if (s.includes('.pipec/') || s.startsWith('bench/peers/')) return 'generated stage code and user functions';
  if (s.startsWith('node:')) return 'Node internals (streams, sockets, buffers, timers)';
  if (s.includes('node_modules/')) return `other libraries (${s.split('node_modules/')[1].split('/')[0]})`;
  if (s === '') return 'V8 builtins';
  return 'other';
}

/** Self time (µs) per function of one profile, of the samples within `span` (µs on the profile's clock) when given. */
function selfTimes(profile: CpuProfile, span?: { from: number; to: number }): Map<ProfileNode, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<ProfileNode, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    if (span && (at < span.from || at > span.to)) continue;
    const node = byId.get(profile.samples[i])!;
    // timeDeltas[i + 1] is the time from this sample to the next: this sample's share of the profile.
    self.set(node, (self.get(node) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  return self;
}

/** Frames whose time belongs to their caller: Node's internals, V8 builtins, kafkajs's helpers (Long, buffers). */
function transparent(p: Place): boolean {
  if (p.name.startsWith('(') && p.source === '') return false;
  return p.source.startsWith('node:') || p.source === '' || p.source.includes('node_modules/kafkajs/src/utils/');
}

/** The place each node's time is counted for: the nearest caller (or itself) that is not transparent. */
function owners(profile: CpuProfile, placeOf: (n: ProfileNode) => Place): Map<ProfileNode, Place> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<ProfileNode, ProfileNode>();
  for (const n of profile.nodes) for (const c of (n as ProfileNode & { children?: number[] }).children ?? []) parent.set(byId.get(c)!, n);
  const owner = new Map<ProfileNode, Place>();
  const find = (n: ProfileNode): Place => {
    const known = owner.get(n);
    if (known) return known;
    const p = placeOf(n);
    const up = parent.get(n);
    const result = transparent(p) && up && up.callFrame.functionName !== '(root)' ? find(up) : p;
    owner.set(n, result);
    return result;
  };
  for (const n of profile.nodes) find(n);
  return owner;
}

const percent = (part: number, total: number) => `${((part / total) * 100).toFixed(1).padStart(5)}%`;

/** The operators of a profiled stage, from its build's manifest (bench/.out/<build>/manifest.json). */
function operatorsOf(folder: string): string {
  const match = /^(.*)-stage-(\d+)$/.exec(folder);
  try {
    const manifest = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../.out', match![1], 'manifest.json'), 'utf8')) as { stages: Array<{ operators: string[] }> };
    return manifest.stages[Number(match![2])].operators.join(' → ').replace(/kafka\([^)]*\)/g, 'kafka');
  } catch {
    return '?';
  }
}

/** Prints, per profiled build and stage, the time split by category and the functions with the most self time. */
export function summarizeProfiles(dir: string, top = 12): void {
  const folders = fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isDirectory()).sort();
  // Each worker's timed span (index.ts: from the first input commit to the last output record), by process id.
  const spansFile = path.join(dir, 'spans.json');
  const spans = fs.existsSync(spansFile) ? JSON.parse(fs.readFileSync(spansFile, 'utf8')) as Record<string, { from: number; to: number }> : {};
  console.log(`pipec worker profiles (${dir}): self time within the timed span of each run (start-up, group joins and`);
  console.log("shutdown left out), over every profiled round. Categories count the time of Node's internals and V8 builtins");
  console.log("(Buffer copies, sockets, JSON's UTF-8 decoding) with the code that called them.");
  for (const folder of folders) {
    const files = fs.readdirSync(path.join(dir, folder)).filter((f) => f.endsWith('.cpuprofile'));
    if (!files.length) continue;
    const byPlace = new Map<string, { place: Place; us: number }>();
    const byCategory = new Map<string, number>();
    let total = 0;
    let delegated = 0;
    let spanned = 0;
    for (const file of files) {
      const profile = JSON.parse(fs.readFileSync(path.join(dir, folder, file), 'utf8')) as CpuProfile;
      const places = new Map<ProfileNode, Place>();
      const placeOf = (n: ProfileNode) => { let p = places.get(n); if (!p) { p = place(n.callFrame); places.set(n, p); } return p; };
      const owner = owners(profile, placeOf);
      // Profiles are named CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile.
      const span = spans[file.split('.')[3]];
      if (span) spanned++;
      for (const [node, us] of selfTimes(profile, span)) {
        if (node.callFrame.functionName === '(root)') continue;
        const p = placeOf(node);
        const id = `${p.name}\u0000${p.source}\u0000${p.line}`;
        const entry = byPlace.get(id);
        if (entry) entry.us += us; else byPlace.set(id, { place: p, us });
        const c = category(owner.get(node)!);
        byCategory.set(c, (byCategory.get(c) ?? 0) + us);
        if (owner.get(node) !== p) delegated += us;
        total += us;
      }
    }
    console.log('');
    console.log(`${folder} (${operatorsOf(folder)}): ${(total / 1e6).toFixed(1)} s sampled over ${files.length} profile(s)${spanned === files.length ? '' : ` (${files.length - spanned} without a timed span: whole process)`}`);
    const sum = (prefix: string) => [...byCategory].filter(([c]) => c.startsWith(prefix)).reduce((s, [, us]) => s + us, 0);
    const share = (us: number) => percent(us, total).trim();
    console.log(`  Kafka client ${share(sum('Kafka client'))} (fetch + decode ${share(byCategory.get('Kafka client: fetch + decode') ?? 0)}, produce + encode ${share(byCategory.get('Kafka client: produce + encode') ?? 0)}), JSON ${share(byCategory.get('JSON') ?? 0)}, pipec runtime ${share(sum('pipec runtime'))}, generated code ${share(byCategory.get('generated stage code and user functions') ?? 0)}, GC ${share(byCategory.get('GC') ?? 0)}, idle ${share(byCategory.get('idle') ?? 0)}; Node internals and builtins, counted with their callers: ${share(delegated)}`);
    for (const [c, us] of [...byCategory].sort((a, b) => b[1] - a[1])) if (us / total >= 0.001) console.log(`    ${percent(us, total)}  ${c}`);
    console.log(`  top ${top} functions by self time:`);
    for (const { place: p, us } of [...byPlace.values()].sort((a, b) => b.us - a.us).slice(0, top)) {
      console.log(`    ${percent(us, total)}  ${p.name.padEnd(34)} ${p.source}${p.line ? `:${p.line}` : ''}`);
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) { console.error('usage: node --import tsx bench/peers/profile.ts <profile dir>'); process.exit(2); }
  summarizeProfiles(dir);
}
