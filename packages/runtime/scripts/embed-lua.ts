/**
 * Embeds the runtime's Lua scripts in a TypeScript module, so they ship inside the JavaScript and a
 * bundle (esbuild, Rollup, webpack) or a single-file deployment needs no `.lua` file on disk — the
 * same idea as BullMQ's build, which turns its `commands/*.lua` into generated script modules.
 *
 * Reads `lua/<name>-<keys>.lua`, inlines every `--@include <file>` line from `lua/includes/`, and
 * writes `src/lua-scripts.generated.ts`: name → `{ numberOfKeys, lua }`. The name (the file's name
 * part in camelCase: `presence-beat-3.lua` → `presenceBeat`) and the number of keys come from the
 * file name alone, so adding or changing a script needs no edit elsewhere. `<keys>` is `n` for a
 * script that takes any number of keys: its caller passes the number first, as EVALSHA does.
 *
 * The output is not committed (it is in .gitignore): `npm ci` (the root `prepare`), `npm run build`,
 * `npm pack`, `npm test` (vitest's global setup), `npm run demo` and `npm run bench` regenerate it,
 * so neither the tests nor a published package can run stale Lua. Run it by hand with
 * `npm run generate -w @celeriac/runtime`, or `-- --check` to only verify it is up to date.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The runtime package's own directory. */
export const runtimeDir: string = fileURLToPath(new URL('..', import.meta.url));

/** Where the scripts live and where the module goes; tests point them at a scratch directory. */
export interface EmbedLuaPaths {
  /** Directory of `<name>-<keys>.lua` files, with shared parts in its `includes/`. */
  readonly luaDir: string;
  /** The TypeScript module to write. */
  readonly outFile: string;
}

export const defaultPaths: EmbedLuaPaths = {
  luaDir: join(runtimeDir, 'lua'),
  outFile: join(runtimeDir, 'src', 'lua-scripts.generated.ts'),
};

/** One script, ready for ioredis's `defineCommand`. */
export interface EmbeddedScript {
  readonly name: string;
  /** Undefined for a `<name>-n.lua` script: its caller passes the number of keys. */
  readonly numberOfKeys: number | undefined;
  /** The script's text with its includes inlined. */
  readonly lua: string;
}

/** A `.lua` file whose name or includes cannot be embedded; the message says which and why. */
export class LuaScriptError extends Error {
  override readonly name = 'LuaScriptError';
}

/** `<name>-<keys>.lua`, the name in camelCase or kebab-case: `fail-6.lua`, `presence-beat-3.lua`, `advance-n.lua`. */
const SCRIPT_FILE = /^([a-z][A-Za-z0-9]*(?:-[a-z][A-Za-z0-9]*)*)-(\d+|n)\.lua$/;

/** A script's name in the map and as an ioredis command: the file's name part in camelCase. */
const camelCase = (name: string): string => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
const INCLUDE_LINE = /^--@include ([\w-]+)[ \t]*$/gm;

/** Inlines `--@include name` lines (recursively), naming the chain of files if one is missing or loops. */
function inlineIncludes(text: string, includesDir: string, chain: readonly string[]): string {
  return text.replace(INCLUDE_LINE, (_line, include: string) => {
    const file = `${include}.lua`;
    if (chain.includes(file)) {
      throw new LuaScriptError(`Lua include cycle: ${[...chain, file].join(' → ')}`);
    }
    const path = join(includesDir, file);
    if (!existsSync(path)) {
      throw new LuaScriptError(`${chain.at(-1)} includes "${include}", but ${path} does not exist`);
    }
    return inlineIncludes(readFileSync(path, 'utf8'), includesDir, [...chain, file]).replace(/\n$/, '');
  });
}

/** Reads every script in `luaDir`, sorted by name. */
export function readScripts(luaDir: string): EmbeddedScript[] {
  const files = readdirSync(luaDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.lua'))
    .map((entry) => entry.name)
    .sort();
  const scripts: EmbeddedScript[] = [];
  for (const file of files) {
    const match = SCRIPT_FILE.exec(file);
    if (match === null) {
      throw new LuaScriptError(
        `${join(luaDir, file)}: a script's file name must be <name>-<number of keys>.lua (or <name>-n.lua when ` +
          'its caller passes the number), the name in camelCase or kebab-case, e.g. "fail-6.lua" or ' +
          '"presence-beat-3.lua"; shared parts belong in includes/',
      );
    }
    const [, stem = '', keys = ''] = match;
    const name = camelCase(stem);
    if (scripts.some((script) => script.name === name)) {
      throw new LuaScriptError(`${join(luaDir, file)}: another file already defines the script "${name}"`);
    }
    const text = readFileSync(join(luaDir, file), 'utf8');
    scripts.push({ name, numberOfKeys: keys === 'n' ? undefined : Number(keys), lua: inlineIncludes(text, join(luaDir, 'includes'), [file]) });
  }
  if (scripts.length === 0) throw new LuaScriptError(`${luaDir} holds no <name>-<keys>.lua script`);
  return scripts;
}

/** The generated module's text. */
export function renderModule(scripts: readonly EmbeddedScript[], luaDir: string, outFile: string): string {
  const from = relative(join(outFile, '..', '..'), luaDir) || '.';
  const names = scripts.map((script) => `'${script.name}'`).join(' | ');
  const entries = scripts
    .map((s) => `  ${s.name}: {\n${s.numberOfKeys === undefined ? '' : `    numberOfKeys: ${s.numberOfKeys},\n`}    lua: ${JSON.stringify(s.lua)},\n  },`)
    .join('\n');
  return `// Generated from ${from}/*.lua by scripts/embed-lua.ts: do not edit, and do not commit.
// \`npm run generate -w @celeriac/runtime\` regenerates it (so do npm ci, build, test, demo and bench).

/** The name of each Lua script: \`<name>\` of \`lua/<name>-<keys>.lua\`, in camelCase. */
export type LuaScriptName = ${names};

/** A script as ioredis's \`defineCommand\` takes it. */
export interface LuaScript {
  /**
   * How many of the script's arguments are keys: \`<keys>\` of \`lua/<name>-<keys>.lua\`; absent for
   * \`<name>-n.lua\`, whose caller passes the number first.
   */
  readonly numberOfKeys?: number;
  /** The script's text, with its \`--@include\` lines replaced by the files they name. */
  readonly lua: string;
}

/** Every Lua script of the runtime, embedded at build time so that bundles need no \`.lua\` file. */
export const luaScripts: { readonly [TName in LuaScriptName]: LuaScript } = {
${entries}
};
`;
}

/** What {@link embedLua} found: whether the module on disk was already up to date. */
export interface EmbedLuaResult {
  readonly outFile: string;
  readonly scripts: readonly EmbeddedScript[];
  readonly upToDate: boolean;
}

/**
 * Regenerates the module if its text would change (so watchers see no needless write), or with
 * `check` only reports whether it is up to date.
 */
export function embedLua(options: { readonly check?: boolean; readonly paths?: EmbedLuaPaths } = {}): EmbedLuaResult {
  const { luaDir, outFile } = options.paths ?? defaultPaths;
  const scripts = readScripts(luaDir);
  const text = renderModule(scripts, luaDir, outFile);
  const upToDate = existsSync(outFile) && readFileSync(outFile, 'utf8') === text;
  if (!upToDate && options.check !== true) writeFileSync(outFile, text);
  return { outFile, scripts, upToDate };
}

function main(args: readonly string[]): number {
  const check = args.includes('--check');
  const { outFile, scripts, upToDate } = embedLua({ check });
  const where = relative(process.cwd(), outFile);
  if (check && !upToDate) {
    process.stderr.write(`${where} is missing or stale: run \`npm run generate -w @celeriac/runtime\`\n`);
    return 1;
  }
  // Quiet when nothing changed: it runs before every demo and benchmark.
  if (!upToDate) process.stdout.write(`${where}: written (${scripts.map((s) => `${s.name}/${s.numberOfKeys ?? 'n'}`).join(', ')})\n`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof LuaScriptError ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
