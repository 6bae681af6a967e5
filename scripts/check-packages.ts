/**
 * `npm run check:packages`: packs every package under packages/* as `npm publish` would, and proves
 * that the tarballs work for a user outside this repository (docs/packaging.md):
 *
 * 1. each manifest follows the conventions (fields, exports, engines, LICENSE, README);
 * 2. `npm pack` (whose `prepack` cleans and builds) makes each tarball; publint and
 *    arethetypeswrong check it;
 * 3. a throwaway project in a temporary directory installs the tarballs (third-party packages from
 *    the registry, or npm's cache when it has them) and checks what landed: README and LICENSE,
 *    no tests, source maps whose sources resolve, no `@internal` name in the published `.d.ts`,
 *    declarations that compile with `skipLibCheck: false`, one ioredis and one bullmq in the tree;
 * 4. smoke programs apply a chain against a private redis-server (or REDIS_URL) in each module
 *    style we support: ESM JavaScript, CommonJS `require()` (require(esm), Node ^20.19 || >=22.12),
 *    TypeScript with `nodenext`, `bundler` and legacy `node10` resolution, and an esbuild bundle;
 *    `tsc` compiles a typed chain and rejects a badly typed one with the expected error;
 *    the installed `celeriac` binary prints its version and help and answers `status`;
 * 5. the API reference (TypeDoc, `npm run docs`) covers every package and no `@internal` name.
 *
 * Exits 1 if any check fails, after running them all. `-- --keep` keeps the temporary directory.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { RedisServerMissingError, startPrivateRedis, type PrivateRedis } from './private-redis.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** The Node.js versions the packages support: require(esm) works unflagged from these on. */
const NODE_ENGINES = '^20.19.0 || >=22.12.0';

interface Manifest {
  readonly name: string;
  readonly version?: string;
  readonly private?: boolean;
  readonly [field: string]: unknown;
}

interface Pkg {
  /** packages/<dir> */
  readonly dir: string;
  readonly path: string;
  readonly manifest: Manifest;
}

const failures: string[] = [];
const started = performance.now();

function fail(message: string): void {
  failures.push(message);
  console.log(`  ✗ ${message}`);
}

function ok(message: string): void {
  console.log(`  ✓ ${message}`);
}

function check(condition: boolean, message: string, detail = ''): boolean {
  if (condition) ok(message);
  else fail(detail === '' ? message : `${message}: ${detail}`);
  return condition;
}

function section(title: string): void {
  console.log(`\n--- ${title} (t+${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs a command without a shell; never rejects for a non-zero exit. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const describeRun = (r: RunResult): string =>
  `${r.timedOut ? 'timed out' : `exit ${r.code}`}\n${`${r.stdout}\n${r.stderr}`.trim().replace(/^/gm, '      ')}`;

/** Every package under packages/*, private ones included (they are reported and skipped). */
function discoverPackages(): Pkg[] {
  const packagesDir = join(repoRoot, 'packages');
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(packagesDir, entry.name, 'package.json')))
    .map((entry) => {
      const path = join(packagesDir, entry.name);
      return { dir: entry.name, path, manifest: JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as Manifest };
    })
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

// ---------------------------------------------------------------------------------------------
// 1. Manifest conventions

function checkManifest(pkg: Pkg): void {
  const m = pkg.manifest;
  const where = `packages/${pkg.dir}/package.json`;
  check(m.name === `@celeriac/${pkg.dir}`, `${where}: name is @celeriac/${pkg.dir}`, `got ${JSON.stringify(m.name)}`);
  for (const field of ['version', 'description'] as const) {
    check(typeof m[field] === 'string' && m[field] !== '', `${where}: has a ${field}`);
  }
  check(m['license'] === 'MIT', `${where}: license is MIT`, `got ${JSON.stringify(m['license'])}`);
  check(m['type'] === 'module', `${where}: "type": "module" (the packages are ESM-only)`);
  check(typeof m['sideEffects'] === 'boolean', `${where}: declares sideEffects`);
  const engines = m['engines'] as { node?: string } | undefined;
  check(engines?.node === NODE_ENGINES, `${where}: engines.node is "${NODE_ENGINES}"`, `got ${JSON.stringify(engines?.node)}`);
  const root = (m['exports'] as Record<string, unknown> | undefined)?.['.'] as Record<string, string> | undefined;
  const conditions = root === undefined || typeof root !== 'object' ? [] : Object.keys(root);
  check(
    JSON.stringify(conditions) === JSON.stringify(['@celeriac/source', 'types', 'default']),
    `${where}: exports["."] has the conditions @celeriac/source, types, default in that order`,
    `got ${JSON.stringify(conditions)}`,
  );
  if (root !== undefined) {
    check(m['main'] === root['default'], `${where}: main repeats exports["."].default for legacy resolution`);
    check(m['types'] === root['types'], `${where}: types repeats exports["."].types for legacy resolution`);
  }
  const files = m['files'];
  check(Array.isArray(files) && files.includes('dist'), `${where}: files lists dist`);
  check((m['publishConfig'] as { access?: string } | undefined)?.access === 'public', `${where}: publishConfig.access is public`);
  const scripts = (m['scripts'] ?? {}) as Record<string, string>;
  check(typeof scripts['build'] === 'string' && typeof scripts['prepack'] === 'string', `${where}: has build and prepack scripts`);
  const license = join(pkg.path, 'LICENSE');
  check(
    existsSync(license) && readFileSync(license, 'utf8') === readFileSync(join(repoRoot, 'LICENSE'), 'utf8'),
    `packages/${pkg.dir}/LICENSE is the repository's LICENSE`,
  );
  check(existsSync(join(pkg.path, 'README.md')), `packages/${pkg.dir}/README.md exists`);
}

// ---------------------------------------------------------------------------------------------
// 2. Pack, publint, arethetypeswrong

interface Packed {
  readonly pkg: Pkg;
  readonly tarball: string;
}

async function pack(pkgs: readonly Pkg[], destination: string): Promise<Packed[]> {
  const args = ['pack', '--json', `--pack-destination=${destination}`, ...pkgs.map((p) => `--workspace=packages/${p.dir}`)];
  const result = await run(npm, args, { cwd: repoRoot, timeoutMs: 300_000 });
  if (result.code !== 0) throw new Error(`npm ${args.join(' ')} failed: ${describeRun(result)}`);
  // prepack's output shares stdout with the JSON report, which is the last top-level array.
  const report = JSON.parse(result.stdout.slice(result.stdout.lastIndexOf('\n[') + 1)) as { name: string; filename: string }[];
  return pkgs.map((pkg) => {
    const entry = report.find((r) => r.name === pkg.manifest.name);
    if (entry === undefined) throw new Error(`npm pack reported no tarball for ${pkg.manifest.name}`);
    // npm names the file after the package (@scope/name → scope-name-version.tgz).
    return { pkg, tarball: join(destination, entry.filename.replace(/^@/, '').replace('/', '-')) };
  });
}

async function lint(packed: Packed): Promise<void> {
  const name = packed.pkg.manifest.name;
  const data = readFileSync(packed.tarball);
  const tarball = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const { messages, pkg } = await publint({ pack: { tarball }, strict: true, level: 'suggestion' });
  for (const message of messages) {
    const text = `publint ${name}: ${message.type} ${message.code}: ${formatMessage(message, pkg) ?? ''}`;
    if (message.type === 'suggestion') console.log(`  · ${text}`);
    else fail(text);
  }
  if (messages.every((m) => m.type === 'suggestion')) ok(`publint ${name}: no error or warning`);

  // CommonJS callers use require(esm) (Node ^20.19 || >=22.12), which attw's node16-cjs
  // resolution predates: that one rule is ignored; the CommonJS smoke programs below cover it.
  const attw = join(repoRoot, 'node_modules', '.bin', 'attw');
  const result = await run(attw, [packed.tarball, '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii'], { cwd: repoRoot });
  check(result.code === 0, `arethetypeswrong ${name}: types resolve in node10, node16 and bundler`, describeRun(result));
}

// ---------------------------------------------------------------------------------------------
// 3. A user's project, outside the repository

function versionOf(dependency: string): string {
  return (require(`${dependency}/package.json`) as { version: string }).version;
}

async function install(consumer: string, packed: readonly Packed[]): Promise<boolean> {
  const dependencies: Record<string, string> = {};
  for (const { pkg, tarball } of packed) dependencies[pkg.manifest.name] = `file:${relative(consumer, tarball)}`;
  // The versions this repository already uses, so npm's cache usually has them.
  dependencies['ioredis'] = versionOf('ioredis');
  const devDependencies = { typescript: versionOf('typescript'), '@types/node': versionOf('@types/node') };
  writeFileSync(
    join(consumer, 'package.json'),
    `${JSON.stringify({ name: 'celeriac-consumer', private: true, type: 'module', dependencies, devDependencies }, null, 2)}\n`,
  );
  const result = await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: consumer,
    timeoutMs: 300_000,
  });
  return check(result.code === 0, 'npm install of the tarballs into a project outside the repository', describeRun(result));
}

/** Every file under `dir`, as paths relative to it with forward slashes. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(dir, path)).isFile())
    .map((path) => path.split(sep).join('/'));
}

function checkInstalled(consumer: string, pkg: Pkg): void {
  const name = pkg.manifest.name;
  const dir = join(consumer, 'node_modules', ...name.split('/'));
  const files = filesUnder(dir);
  const changelog = existsSync(join(pkg.path, 'CHANGELOG.md')) ? ['CHANGELOG.md'] : [];
  for (const required of ['package.json', 'README.md', 'LICENSE', ...changelog, 'dist/index.js', 'dist/index.d.ts']) {
    check(files.includes(required), `${name} ships ${required}`);
  }
  const tests = files.filter((f) => /\.test(-d)?\.[cm]?[jt]s$|(^|\/)(test|fixtures)\//.test(f));
  check(tests.length === 0, `${name} ships no tests or fixtures`, tests.join(', '));

  const unresolved: string[] = [];
  const maps = files.filter((f) => f.endsWith('.map'));
  for (const map of maps) {
    const { sources = [] } = JSON.parse(readFileSync(join(dir, map), 'utf8')) as { sources?: string[] };
    if (sources.length === 0) unresolved.push(`${map}: no sources`);
    for (const source of sources) {
      if (!existsSync(join(dir, dirname(map), source))) unresolved.push(`${map} → ${source}`);
    }
  }
  check(maps.length > 0 && unresolved.length === 0, `${name}: ${maps.length} source maps, every source in the tarball`, unresolved.join(', '));

  const internal = files.filter((f) => f.endsWith('.d.ts') && readFileSync(join(dir, f), 'utf8').includes('@internal'));
  check(internal.length === 0, `${name}: no @internal declaration left in the published .d.ts (stripInternal)`, internal.join(', '));
}

/** How many copies of `name` npm installed. */
async function copiesOf(consumer: string, name: string): Promise<string[]> {
  const result = await run(npm, ['query', `#${name}`], { cwd: consumer });
  if (result.code !== 0) throw new Error(`npm query #${name} failed: ${describeRun(result)}`);
  return (JSON.parse(result.stdout) as { location: string; version: string }[]).map((n) => `${n.location}@${n.version}`);
}

// ---------------------------------------------------------------------------------------------
// 4. Smoke programs

const STRICT = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  target: 'ES2022',
  lib: ['ES2023'],
  types: ['node'],
  skipLibCheck: true,
};

/** TypeScript setups a user may have: name → compilerOptions; each compiles typed.ts and runs it. */
const TS_SETUPS = {
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
  // Legacy resolution ignores "exports" and reads "types"/"main"; its CommonJS output loads the
  // ESM build through require(esm).
  node10: { module: 'commonjs', moduleResolution: 'node10' },
} as const;

const CHAIN_OUTPUT = '16 8 4';

/** An ESM bundle's `require` for CommonJS dependencies (see packages/runtime/test/bundle.int.test.ts). */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

/** Smoke programs, by file name. Each applies a chain with its own worker and exits by itself. */
function smokeFiles(pkgs: readonly Pkg[]): Record<string, string> {
  const names = pkgs.map((p) => p.manifest.name);
  return {
    'esm.mjs': `import { chain } from '@celeriac/canvas';
import { createApp } from '@celeriac/runtime';

const app = createApp({ redis: process.env.REDIS_URL, prefix: \`smoke-esm-\${process.pid}\`, resultTtl: 60 });
const add = app.task('add', (x, y) => x + y);
app.worker({ concurrency: 2 });
const res = await app.apply(chain(add.s(2, 2), add.s(4), add.s(8)));
console.log(await res.get({ timeout: 10_000 }), await res.parent.get(), await res.parent.parent.get());
await app.close();
`,
    // The app passes its own ioredis client: App recognises it (instanceof) only if the tree has one ioredis.
    'cjs.cjs': `const { Redis } = require('ioredis');
const { chain } = require('@celeriac/canvas');
const { createApp } = require('@celeriac/runtime');

async function main() {
  const redis = new Redis(process.env.REDIS_URL);
  const app = createApp({ redis, prefix: \`smoke-cjs-\${process.pid}\`, resultTtl: 60 });
  const add = app.task('add', (x, y) => x + y);
  app.worker({ concurrency: 2 });
  const res = await app.apply(chain(add.s(2, 2), add.s(4), add.s(8)));
  console.log(await res.get({ timeout: 10_000 }), await res.parent.get(), await res.parent.parent.get());
  await app.close();
  if (redis.status !== 'ready') throw new Error('the app closed a client it does not own');
  await redis.quit();
}
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`,
    'typed.ts': `import { chain, type Chain } from '@celeriac/canvas';
import { createApp } from '@celeriac/runtime';

async function main(): Promise<void> {
  const url = process.env['REDIS_URL'];
  if (url === undefined) throw new Error('REDIS_URL is not set');
  const app = createApp({ redis: url, prefix: \`smoke-ts-\${process.pid}\`, resultTtl: 60 });
  const add = app.task('add', (x: number, y: number) => x + y);
  const show = app.task('show', (n: number) => \`sum=\${n}\`);
  // @ts-expect-error -- App.internals is @internal: stripInternal keeps it out of the published types
  void app.internals;
  app.worker({ concurrency: 2 });
  const flow: Chain<[], string> = chain(add.s(2, 2), add.s(4), add.s(8), show.s());
  const res = await app.apply(flow);
  const value: string = await res.get({ timeout: 10_000 });
  const parent = res.parent;
  if (parent === null) throw new Error('a chain step has a parent');
  console.log(value, await parent.get());
  await app.close();
}
main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`,
    'bad-chain.ts': `import { chain, defineTask } from '@celeriac/canvas';

const add = defineTask<[x: number, y: number], number>('add');
const upper = defineTask<[s: string], string>('upper');
export const bad = chain(add.s(2, 2), upper.s());
`,
    // Every package, imported in each style: catches a package whose entry or types do not resolve.
    'imports.ts': `${names.map((n, i) => `import * as p${i} from '${n}';`).join('\n')}\nexport const modules: object[] = [${names.map((_, i) => `p${i}`).join(', ')}];\n`,
    'imports.mjs': `const names = ${JSON.stringify(names)};
for (const name of names) console.log(name, Object.keys(await import(name)).sort().join(','));
`,
    'imports.cjs': `const names = ${JSON.stringify(names)};
for (const name of names) console.log(name, Object.keys(require(name)).filter((k) => k !== '__esModule' && k !== 'module.exports').sort().join(','));
`,
  };
}

function writeTsconfigs(consumer: string): void {
  for (const [setup, options] of Object.entries(TS_SETUPS)) {
    const outDir = `out/${setup}`;
    const config = { compilerOptions: { ...STRICT, ...options, outDir, rootDir: '.' }, files: ['typed.ts', 'imports.ts'] };
    writeFileSync(join(consumer, `tsconfig.${setup}.json`), `${JSON.stringify(config, null, 2)}\n`);
    const bad = { extends: `./tsconfig.${setup}.json`, compilerOptions: { noEmit: true }, files: ['bad-chain.ts'] };
    writeFileSync(join(consumer, `tsconfig.bad-${setup}.json`), `${JSON.stringify(bad, null, 2)}\n`);
    mkdirSync(join(consumer, outDir), { recursive: true });
    const type = options.module === 'commonjs' ? 'commonjs' : 'module';
    writeFileSync(join(consumer, outDir, 'package.json'), `${JSON.stringify({ type })}\n`);
  }
  // The published declarations themselves, checked with skipLibCheck off (a stripped @internal
  // name that a public one still refers to shows up here).
  const declarations = { compilerOptions: { ...STRICT, ...TS_SETUPS.nodenext, noEmit: true, skipLibCheck: false }, files: ['imports.ts'] };
  writeFileSync(join(consumer, 'tsconfig.declarations.json'), `${JSON.stringify(declarations, null, 2)}\n`);
}

async function tsc(consumer: string, config: string): Promise<RunResult> {
  return run(process.execPath, [join(consumer, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config, '--pretty', 'false'], {
    cwd: consumer,
  });
}

/** Lines of `tsc` output that are about our own packages' files (or the user's files). */
function ownErrors(output: string): string[] {
  return output.split('\n').filter((line) => /error TS/.test(line) && !/node_modules\/(?!@celeriac\/)/.test(line));
}

async function runProgram(consumer: string, label: string, file: string, redisUrl: string, expected: string | RegExp): Promise<void> {
  const result = await run(process.execPath, [file], { cwd: consumer, env: { REDIS_URL: redisUrl }, timeoutMs: 60_000 });
  const out = result.stdout.trim();
  const matches = typeof expected === 'string' ? out === expected : expected.test(out);
  check(result.code === 0 && matches && !result.timedOut, `${label}: prints ${String(expected)} and exits`, describeRun(result));
}

async function smoke(consumer: string, pkgs: readonly Pkg[], redisUrl: string, bundleDir: string): Promise<void> {
  for (const [file, text] of Object.entries(smokeFiles(pkgs))) writeFileSync(join(consumer, file), text);
  writeTsconfigs(consumer);

  section('Importing every package: ESM and CommonJS');
  const esm = await run(process.execPath, ['imports.mjs'], { cwd: consumer });
  const cjs = await run(process.execPath, ['imports.cjs'], { cwd: consumer });
  check(esm.code === 0 && esm.stdout.split('\n').filter(Boolean).length === pkgs.length, 'import() of every package', describeRun(esm));
  check(cjs.code === 0 && cjs.stdout === esm.stdout, 'require() of every package gives the same exports as import()', describeRun(cjs));

  section('JavaScript against Redis');
  await runProgram(consumer, 'ESM (esm.mjs)', 'esm.mjs', redisUrl, CHAIN_OUTPUT);
  await runProgram(consumer, 'CommonJS (cjs.cjs, require(esm), the app passing its own ioredis client)', 'cjs.cjs', redisUrl, CHAIN_OUTPUT);

  section('esbuild bundle of esm.mjs, run from a directory with no node_modules');
  const outfile = join(bundleDir, 'app.mjs');
  await build({
    entryPoints: [join(consumer, 'esm.mjs')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: 'error',
  });
  await runProgram(bundleDir, 'bundle (one file)', outfile, redisUrl, CHAIN_OUTPUT);

  for (const setup of Object.keys(TS_SETUPS)) {
    section(`TypeScript, moduleResolution ${setup}`);
    const good = await tsc(consumer, `tsconfig.${setup}.json`);
    if (check(good.code === 0, `tsc compiles a typed chain (typed.ts) and every package's types (imports.ts)`, describeRun(good))) {
      await runProgram(consumer, `compiled typed.ts`, `out/${setup}/typed.js`, redisUrl, 'sum=16 16');
    }
    const bad = await tsc(consumer, `tsconfig.bad-${setup}.json`);
    check(
      bad.code !== 0 && /bad-chain\.ts\(5,.*is not assignable to the first unbound parameter/.test(bad.stdout),
      'tsc rejects a badly typed chain (bad-chain.ts) with "… is not assignable to the first unbound parameter"',
      describeRun(bad),
    );
  }

  const cli = pkgs.find((pkg) => pkg.dir === 'cli');
  if (cli !== undefined) await smokeCli(consumer, cli, redisUrl);

  section('Published declarations with skipLibCheck off');
  const declarations = await tsc(consumer, 'tsconfig.declarations.json');
  const errors = ownErrors(declarations.stdout);
  check(errors.length === 0, "no type error in the packages' .d.ts files", errors.join('\n'));
}

/** The installed `celeriac` binary runs from dist/ (no TypeScript sources, no repository): --version, --help, status. */
async function smokeCli(consumer: string, cli: Pkg, redisUrl: string): Promise<void> {
  section('The celeriac command, installed (node_modules/.bin/celeriac)');
  const bin = join(consumer, 'node_modules', '.bin', process.platform === 'win32' ? 'celeriac.cmd' : 'celeriac');
  const version = await run(bin, ['--version'], { cwd: consumer });
  check(version.code === 0 && version.stdout.trim() === cli.manifest.version, `celeriac --version prints ${String(cli.manifest.version)}`, describeRun(version));
  const help = await run(bin, ['--help'], { cwd: consumer });
  check(help.code === 0 && /^ {2}worker \[options\]/m.test(help.stdout) && /^ {2}inspect/m.test(help.stdout), 'celeriac --help lists the commands', describeRun(help));
  const workerHelp = await run(bin, ['worker', '--help'], { cwd: consumer });
  check(workerHelp.code === 0 && workerHelp.stdout.includes('-c, --concurrency'), 'celeriac worker --help', describeRun(workerHelp));
  const status = await run(bin, ['status', '-b', redisUrl, '--prefix', `smoke-cli-${process.pid}`], { cwd: consumer });
  check(status.code === 69 && status.stdout.trim() === 'No nodes online.', 'celeriac status against Redis: "No nodes online." (exit 69)', describeRun(status));
}

// ---------------------------------------------------------------------------------------------
// 5. API reference

/** `npm run docs` works (TypeDoc over every package) and keeps `@internal` names out. */
async function apiReference(pkgs: readonly Pkg[], work: string): Promise<void> {
  section('API reference (TypeDoc, as npm run docs)');
  const json = join(work, 'api.json');
  const result = await run(join(repoRoot, 'node_modules', '.bin', 'typedoc'), ['--json', json, '--logLevel', 'Error'], {
    cwd: repoRoot,
    timeoutMs: 300_000,
  });
  if (!check(result.code === 0 && existsSync(json), 'typedoc converts every package', describeRun(result))) return;
  const project = JSON.parse(readFileSync(json, 'utf8')) as { children?: { name: string }[] };
  const modules = (project.children ?? []).map((child) => child.name);
  for (const pkg of pkgs) check(modules.includes(pkg.manifest.name), `${pkg.manifest.name} has its page`, `modules: ${modules.join(', ')}`);
  const text = readFileSync(json, 'utf8');
  check(!text.includes('"@internal"'), 'no @internal declaration is documented');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const keep = process.argv.includes('--keep');
  const all = discoverPackages();
  const pkgs = all.filter((p) => p.manifest.private !== true);
  for (const p of all.filter((p) => p.manifest.private === true)) console.log(`packages/${p.dir} is private: not checked`);
  if (pkgs.length === 0) {
    console.error('No publishable package under packages/.');
    return 1;
  }
  const work = mkdtempSync(join(tmpdir(), 'celeriac-pack-check-'));
  const tarballs = join(work, 'tarballs');
  const consumer = join(work, 'consumer');
  const bundleDir = join(work, 'bundle');
  for (const dir of [tarballs, consumer, bundleDir]) mkdirSync(dir);
  let redis: PrivateRedis | undefined;
  try {
    section(`Manifests of ${pkgs.map((p) => p.manifest.name).join(', ')}`);
    for (const pkg of pkgs) checkManifest(pkg);

    section('npm pack (prepack: clean build)');
    const packed = await pack(pkgs, tarballs);
    for (const p of packed) ok(`${p.pkg.manifest.name}: ${relative(work, p.tarball)}`);

    section('publint and arethetypeswrong');
    for (const p of packed) await lint(p);

    section(`Installing the tarballs into ${consumer}`);
    if (!(await install(consumer, packed))) return 1;
    for (const pkg of pkgs) checkInstalled(consumer, pkg);
    for (const dependency of ['ioredis', 'bullmq']) {
      const copies = await copiesOf(consumer, dependency);
      check(copies.length === 1, `one ${dependency} in the tree`, copies.join(', '));
    }

    const given = process.env['REDIS_URL'];
    let redisUrl: string;
    if (given !== undefined && given !== '') {
      redisUrl = given;
    } else {
      redis = await startPrivateRedis();
      redisUrl = redis.url;
    }
    await smoke(consumer, pkgs, redisUrl, bundleDir);
    await apiReference(pkgs, work);
  } catch (error) {
    if (error instanceof RedisServerMissingError) fail(error.message);
    else fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
  } finally {
    await redis?.stop();
    if (keep) console.log(`\nKept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failures.length === 0) {
    console.log(`\ncheck:packages: every check passed for ${pkgs.length} packages in ${seconds} s`);
    return 0;
  }
  console.log(`\ncheck:packages: ${failures.length} check(s) failed in ${seconds} s:`);
  for (const failure of failures) console.log(`  ✗ ${failure.split('\n')[0]}`);
  return 1;
}

process.exitCode = await main();
