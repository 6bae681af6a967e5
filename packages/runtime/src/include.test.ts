import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createApp, InvalidArgumentError, type App } from './index.js';
import { importIncludes, resolveInclude } from './include.js';

const appModule = new URL('../test/fixtures/include/app.ts', import.meta.url);

describe('resolveInclude', () => {
  it('resolves a relative path from the app module, not from the current directory', () => {
    expect(resolveInclude('./tasks.ts', appModule)).toBe(new URL('../test/fixtures/include/tasks.ts', import.meta.url).href);
    expect(resolveInclude('../include/tasks.ts', appModule)).toBe(new URL('../test/fixtures/include/tasks.ts', import.meta.url).href);
  });

  it('keeps URLs and file URLs as they are, and turns absolute paths into file URLs', () => {
    const url = new URL('file:///srv/tasks.js');
    expect(resolveInclude(url, appModule)).toBe('file:///srv/tasks.js');
    expect(resolveInclude('file:///srv/tasks.js', appModule)).toBe('file:///srv/tasks.js');
    const absolute = fileURLToPath(new URL('./include.ts', import.meta.url));
    expect(resolveInclude(absolute, appModule)).toBe(pathToFileURL(absolute).href);
  });

  it('finds a package as the app module would import it', () => {
    expect(resolveInclude('p-limit', appModule)).toMatch(/^file:.*node_modules\/p-limit\//);
  });
});

describe('the include option', () => {
  it('is checked when the app is created', () => {
    expect(() => createApp({ include: './tasks.ts' as never })).toThrow(InvalidArgumentError);
    expect(() => createApp({ include: [''] })).toThrow(/include: expected an array of module paths/);
    expect(createApp({ include: ['./a.ts', new URL('file:///b.ts')] }).include).toEqual(['./a.ts', new URL('file:///b.ts')]);
  });

  it('importIncludes imports the named modules, which register their tasks on the app', async () => {
    const { app } = (await import(appModule.href)) as { app: App };
    expect(app.registered).toEqual([]);
    await importIncludes(app, appModule);
    expect(app.registered).toEqual(['shout', 'whisper']);
    await app.close();
  });

  it('names the module that cannot be imported', async () => {
    const app = createApp({ include: ['./no-such-module.ts'] });
    await expect(importIncludes(app, appModule)).rejects.toThrow(/include: cannot import "\.\/no-such-module\.ts" named by the app's include option/);
    await app.close();
  });
});
