/**
 * Celeriac's profiles beside plain BullMQ's, per role: reads the `.cpuprofile` and `.heapprofile`
 * files `npm run bench -- --cpu-prof --heap-prof` wrote (each covers one child's measured workload)
 * and prints, per measured run (the mean over the files of a system and role), where the CPU went
 * (self time by package and by function) and what was allocated (by function), each side by side
 * and sorted by the difference. It is how bench/README.md "Round two, continued (14)" was found.
 *
 *   npm run bench -- --only lone-1k --processes --rounds 5 --cpu-prof --heap-prof
 *   npm run bench:profiles                       # every role found, 30 rows per table
 *   npm run bench:profiles -- --role producer --top 60
 *
 * Run one scenario and one mode at a time: the files are told apart by system and role only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({
  options: {
    dir: { type: 'string', default: fileURLToPath(new URL('./results/cpu/', import.meta.url)) },
    role: { type: 'string' },
    top: { type: 'string', default: '30' },
  },
});
const top = Number(flags.top);
if (!Number.isSafeInteger(top) || top < 1) throw new Error(`--top is a number of rows, not ${flags.top}`);

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: CallFrame }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}
interface HeapNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children: readonly HeapNode[];
}
interface HeapProfile {
  readonly head: HeapNode;
  readonly samples: readonly { readonly nodeId: number; readonly size: number }[];
}

/** Amounts by name, summed over a role's files. */
type Tally = Map<string, number>;

function add(tally: Tally, key: string, amount: number): void {
  tally.set(key, (tally.get(key) ?? 0) + amount);
}

/** Where a function lives, short: `bullmq`, `@celeriac/runtime`'s `packages/runtime/dist`, `node:net`. */
function placeOf(frame: CallFrame): string {
  const { url } = frame;
  const installed = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (installed !== null) return installed[1]!;
  const own = /\/(packages\/[^/]+\/[^/]+)\//.exec(url);
  if (own !== null) return own[1]!;
  if (url.startsWith('node:')) return url;
  return url === '' ? `(native) ${frame.functionName}` : url.replace(/^.*\/bench\//, 'bench/');
}

function functionOf(frame: CallFrame): string {
  const file = frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/(packages|bench)\//, '$1/');
  return `${frame.functionName || '(anonymous)'} ${file}${file === '' ? '' : `:${frame.lineNumber + 1}`}`;
}

/** Self time in ms by package and by function; idle time and V8's `(program)` left out. */
function readCpu(file: string, byPlace: Tally, byFunction: Tally): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  // timeDeltas[i] is the time before sample i: sample i lasted until sample i + 1.
  for (let i = 0; i + 1 < profile.samples.length; i++) {
    const frame = frames.get(profile.samples[i]!)!;
    if (frame.functionName === '(idle)' || frame.functionName === '(program)') continue;
    const ms = profile.timeDeltas[i + 1]! / 1000;
    add(byPlace, placeOf(frame), ms);
    add(byFunction, functionOf(frame), ms);
  }
}

/** Sampled allocation in KB by the function that allocated. */
function readHeap(file: string, byFunction: Tally): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as HeapProfile;
  const bytes = new Map<number, number>();
  for (const sample of profile.samples) bytes.set(sample.nodeId, (bytes.get(sample.nodeId) ?? 0) + sample.size);
  const visit = (node: HeapNode): void => {
    const own = bytes.get(node.id);
    if (own !== undefined) add(byFunction, functionOf(node.callFrame), own / 1024);
    node.children.forEach(visit);
  };
  visit(profile.head);
}

interface RoleProfiles {
  cpuFiles: number;
  heapFiles: number;
  readonly cpuByPlace: Tally;
  readonly cpuByFunction: Tally;
  readonly heapByFunction: Tally;
}

/** Profiles by `<system>-<role>`, as child.ts names them. */
const roles = new Map<string, RoleProfiles>();
for (const file of readdirSync(flags.dir)) {
  const match = /^(celeriac|bullmq)-(producer|worker|both)-\d+\.(cpuprofile|heapprofile)$/.exec(file);
  if (match === null || (flags.role !== undefined && match[2] !== flags.role)) continue;
  const key = `${match[1]}-${match[2]}`;
  let role = roles.get(key);
  if (role === undefined) roles.set(key, (role = { cpuFiles: 0, heapFiles: 0, cpuByPlace: new Map(), cpuByFunction: new Map(), heapByFunction: new Map() }));
  if (match[3] === 'cpuprofile') {
    role.cpuFiles++;
    readCpu(join(flags.dir, file), role.cpuByPlace, role.cpuByFunction);
  } else {
    role.heapFiles++;
    readHeap(join(flags.dir, file), role.heapByFunction);
  }
}
if (roles.size === 0) {
  console.error(`no profiles in ${flags.dir}: run npm run bench -- --only <scenario> --cpu-prof --heap-prof first`);
  process.exit(2);
}

const total = (tally: Tally): number => [...tally.values()].reduce((sum, v) => sum + v, 0);

/** One table: Celeriac's and BullMQ's amounts per run, largest difference first. */
function compare(title: string, unit: string, celeriac: Tally, celeriacRuns: number, bullmq: Tally, bullmqRuns: number): void {
  if (celeriacRuns === 0 || bullmqRuns === 0) return;
  const per = (tally: Tally, runs: number, key: string): number => (tally.get(key) ?? 0) / runs;
  const rows = [...new Set([...celeriac.keys(), ...bullmq.keys()])]
    .map((key) => ({ key, c: per(celeriac, celeriacRuns, key), b: per(bullmq, bullmqRuns, key) }))
    .sort((x, y) => Math.abs(y.c - y.b) - Math.abs(x.c - x.b))
    .slice(0, top);
  const cell = (v: number): string => v.toFixed(unit === 'KB' ? 0 : 2);
  console.log(`\n${title}, per measured run (${unit}): Celeriac ${cell(total(celeriac) / celeriacRuns)}, BullMQ ${cell(total(bullmq) / bullmqRuns)}`);
  console.log(`| Celeriac | BullMQ | difference | where |\n|---:|---:|---:|---|`);
  for (const { key, c, b } of rows) console.log(`| ${cell(c)} | ${cell(b)} | ${cell(c - b)} | \`${key}\` |`);
}

for (const part of ['producer', 'worker', 'both']) {
  const c = roles.get(`celeriac-${part}`);
  const b = roles.get(`bullmq-${part}`);
  if (c === undefined || b === undefined) continue;
  console.log(`\n## ${part} (${c.cpuFiles || c.heapFiles} Celeriac runs, ${b.cpuFiles || b.heapFiles} BullMQ runs)`);
  compare('CPU self time by package', 'ms', c.cpuByPlace, c.cpuFiles, b.cpuByPlace, b.cpuFiles);
  compare('CPU self time by function', 'ms', c.cpuByFunction, c.cpuFiles, b.cpuByFunction, b.cpuFiles);
  compare('Allocated by function', 'KB', c.heapByFunction, c.heapFiles, b.heapByFunction, b.heapFiles);
}
