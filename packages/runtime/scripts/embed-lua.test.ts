import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultPaths, embedLua, LuaScriptError, readScripts } from './embed-lua.js';

const scratchDirs: string[] = [];
afterEach(() => {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A scratch `lua/` directory holding `files` (paths relative to it). */
function luaDir(files: Record<string, string>): { luaDir: string; outFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'celeriac-embed-lua-'));
  scratchDirs.push(dir);
  mkdirSync(join(dir, 'lua', 'includes'), { recursive: true });
  mkdirSync(join(dir, 'src'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'lua', name), text);
  return { luaDir: join(dir, 'lua'), outFile: join(dir, 'src', 'lua-scripts.generated.ts') };
}

describe('embedLua', () => {
  it('takes each script name and key count from the file name, and inlines includes', () => {
    const paths = luaDir({
      'moveIt-3.lua': '-- header\n--@include helpers\nreturn helper()\n',
      'ping-0.lua': "return 'PONG'\n",
      'includes/helpers.lua': '--@include inner\nlocal function helper() return inner end\n',
      'includes/inner.lua': 'local inner = 1\n',
    });
    const scripts = readScripts(paths.luaDir);
    expect(scripts).toEqual([
      {
        name: 'moveIt',
        numberOfKeys: 3,
        lua: '-- header\nlocal inner = 1\nlocal function helper() return inner end\nreturn helper()\n',
      },
      { name: 'ping', numberOfKeys: 0, lua: "return 'PONG'\n" },
    ]);
  });

  it('writes a module whose map holds every script, and rewrites it only when a script changed', () => {
    const paths = luaDir({ 'ping-0.lua': "return 'PONG'\n", 'echo-1.lua': 'return KEYS[1]\n' });
    expect(embedLua({ paths, check: true }).upToDate).toBe(false);
    expect(embedLua({ paths }).upToDate).toBe(false);
    const text = readFileSync(paths.outFile, 'utf8');
    expect(text).toContain("export type LuaScriptName = 'echo' | 'ping';");
    expect(text).toContain('echo: {\n    numberOfKeys: 1,\n    lua: "return KEYS[1]\\n",\n  },');
    expect(embedLua({ paths }).upToDate).toBe(true);

    writeFileSync(join(paths.luaDir, 'echo-1.lua'), 'return KEYS[1] .. "!"\n');
    expect(embedLua({ paths, check: true }).upToDate).toBe(false);
    expect(readFileSync(paths.outFile, 'utf8')).toBe(text); // --check never writes
    embedLua({ paths });
    expect(readFileSync(paths.outFile, 'utf8')).toContain('return KEYS[1] .. \\"!\\"');
  });

  it('names a kebab-case script in camelCase, as ioredis commands are named', () => {
    const paths = luaDir({ 'presence-beat-3.lua': 'return 1\n', 'task-events-1.lua': 'return 2\n' });
    expect(readScripts(paths.luaDir).map(({ name, numberOfKeys }) => [name, numberOfKeys])).toEqual([
      ['presenceBeat', 3],
      ['taskEvents', 1],
    ]);
  });

  it('leaves the number of keys to the caller for a <name>-n.lua script', () => {
    const paths = luaDir({ 'many-n.lua': 'return #KEYS\n' });
    expect(readScripts(paths.luaDir)).toEqual([{ name: 'many', numberOfKeys: undefined, lua: 'return #KEYS\n' }]);
    embedLua({ paths });
    expect(readFileSync(paths.outFile, 'utf8')).toContain('many: {\n    lua: "return #KEYS\\n",\n  },');
  });

  it('refuses a file name without its number of keys, saying what the name must look like', () => {
    const paths = luaDir({ 'advance.lua': 'return 1\n' });
    expect(() => readScripts(paths.luaDir)).toThrow(LuaScriptError);
    expect(() => readScripts(paths.luaDir)).toThrow(/<name>-<number of keys>\.lua/);
  });

  it('names the script and the include that is missing', () => {
    const paths = luaDir({ 'advance-6.lua': '--@include nowhere\nreturn 1\n' });
    expect(() => readScripts(paths.luaDir)).toThrow(/advance-6\.lua includes "nowhere"/);
  });

  it('refuses an include cycle and shows it', () => {
    const paths = luaDir({
      'a-1.lua': '--@include b\n',
      'includes/b.lua': '--@include c\n',
      'includes/c.lua': '--@include b\n',
    });
    expect(() => readScripts(paths.luaDir)).toThrow('Lua include cycle: a-1.lua → b.lua → c.lua → b.lua');
  });

  it('refuses two files that define the same script', () => {
    const paths = luaDir({ 'mark-2.lua': 'return 1\n', 'mark-3.lua': 'return 2\n' });
    expect(() => readScripts(paths.luaDir)).toThrow(/already defines the script "mark"/);
    const kebab = luaDir({ 'task-events-1.lua': 'return 1\n', 'taskEvents-1.lua': 'return 2\n' });
    expect(() => readScripts(kebab.luaDir)).toThrow(/already defines the script "taskEvents"/);
  });
});

describe("the runtime's own scripts", () => {
  it('are all embedded, with the key count of their file name, and the module is up to date', () => {
    const files = readdirSync(defaultPaths.luaDir).filter((name) => name.endsWith('.lua'));
    const { scripts, upToDate } = embedLua({ check: true });
    const kebab = (name: string): string => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
    expect(scripts.map((s) => `${kebab(s.name)}-${s.numberOfKeys ?? 'n'}.lua`).sort()).toEqual(files.map(kebab).sort());
    expect(scripts.every((s) => !s.lua.includes('--@include'))).toBe(true);
    // vitest's global setup regenerated it before any test ran.
    expect(upToDate, 'run `npm run generate -w @celeriac/runtime`').toBe(true);
  });
});
