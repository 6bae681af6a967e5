/**
 * Pins the package boundaries of DESIGN §1 (canvas ← runtime ← cli, monitor) by reading the files
 * themselves, so they hold even where ESLint's no-restricted-imports is not run or is switched off:
 * canvas is pure data and depends on immer only; runtime never reaches up into cli or monitor.
 * Test files are free to use node:fs; that is why this one may.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packagesDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const repoRoot = dirname(packagesDir);
const canvasSrc = join(packagesDir, 'canvas', 'src');
const runtimeSrc = join(packagesDir, 'runtime', 'src');

const SOURCE = /\.(?:[cm]?[jt]s|tsx)$/;
const TEST = /\.test(?:-d)?\.[cm]?[jt]sx?$/;

/** Every source file under `dir`, recursively, optionally without tests. */
function sourceFiles(dir: string, options: { tests: boolean }): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => SOURCE.test(name) && (options.tests || !TEST.test(name)))
    .map((name) => join(dir, name))
    .sort();
}

/**
 * Removes comments, keeping string literals intact, so that an `import` in a TSDoc example does
 * not count while `'http://…'` stays a string. A quote that is really part of a regular-expression
 * literal can only confuse the rest of its own line, because plain strings end at a newline.
 */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    const next = text.charAt(i + 1);
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
      out += ' ';
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text.charAt(j) !== c && (c === '`' || text.charAt(j) !== '\n')) {
        j += text.charAt(j) === '\\' ? 2 : 1;
      }
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

const IMPORT_FORMS = [
  /\b(?:import|export)\b[^'"`;]*?\bfrom\s*(['"])([^'"\n]+)\1/g, // import … from 'x', export … from 'x'
  /\bimport\s*(['"])([^'"\n]+)\1/g, // import 'x'
  /\bimport\s*\(\s*(['"])([^'"\n]+)\1/g, // import('x'), also in type positions
  /\brequire\s*\(\s*(['"])([^'"\n]+)\1/g, // require('x'), import x = require('x')
];
const REFERENCE = /^\s*\/\/\/\s*<reference\s+(?:types|path)\s*=\s*(['"])([^'"\n]+)\1/gm;

/** Every module specifier a file's text imports or re-exports, in order of appearance. */
function importSpecifiers(text: string): string[] {
  const code = stripComments(text);
  const found: { at: number; specifier: string }[] = [];
  for (const form of IMPORT_FORMS) {
    for (const m of code.matchAll(form)) found.push({ at: m.index, specifier: m[2] ?? '' });
  }
  // Triple-slash directives are comments, so they are read from the unstripped text.
  for (const m of text.matchAll(REFERENCE)) found.push({ at: -1, specifier: m[2] ?? '' });
  return found.sort((a, b) => a.at - b.at).map((f) => f.specifier);
}

const isRelative = (specifier: string): boolean => specifier.startsWith('./') || specifier.startsWith('../');
const isInside = (dir: string, path: string): boolean => path === dir || path.startsWith(dir + sep);

interface Import {
  file: string;
  specifier: string;
  /** Absolute target of a relative specifier; undefined for a package name. */
  target: string | undefined;
}

function importsOf(files: string[]): Import[] {
  return files.flatMap((file) =>
    importSpecifiers(readFileSync(file, 'utf8')).map((specifier) => ({
      file,
      specifier,
      target: isRelative(specifier) ? resolve(dirname(file), specifier) : undefined,
    })),
  );
}

const show = ({ file, specifier }: Import): string => `${relative(repoRoot, file)}: '${specifier}'`;

describe('package boundaries (DESIGN §1)', () => {
  it('canvas declares immer as its only dependency', () => {
    const manifest = JSON.parse(readFileSync(join(packagesDir, 'canvas', 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['immer']);
  });

  it('canvas sources import only immer and modules inside canvas/src', () => {
    const files = sourceFiles(canvasSrc, { tests: false });
    expect(files.length).toBeGreaterThan(0);
    const imports = importsOf(files);
    expect(imports.length).toBeGreaterThan(0); // index.ts re-exports; an empty scan means a broken scanner
    const outside = imports.filter(({ specifier, target }) =>
      target === undefined ? specifier !== 'immer' : !isInside(canvasSrc, target),
    );
    expect(outside.map(show)).toEqual([]);
  });

  it('runtime never imports the cli or the monitor package', () => {
    expect(existsSync(join(packagesDir, 'runtime', 'package.json'))).toBe(true); // the paths are right
    const upward = [join(packagesDir, 'cli'), join(packagesDir, 'monitor')];
    const files = existsSync(runtimeSrc) ? sourceFiles(runtimeSrc, { tests: true }) : [];
    const imports = importsOf(files);
    const violations = imports.filter(({ specifier, target }) =>
      target === undefined
        ? /^@celeriac\/(?:cli|monitor)(?:\/|$)/.test(specifier)
        : upward.some((dir) => isInside(dir, target)),
    );
    expect(violations.map(show)).toEqual([]);

    const manifest = JSON.parse(readFileSync(join(packagesDir, 'runtime', 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const declared = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'].flatMap(
      (field) => Object.keys((manifest[field] ?? {}) as Record<string, string>),
    );
    expect(declared.filter((name) => /^@celeriac\/(?:cli|monitor)$/.test(name))).toEqual([]);
  });
});

describe('the import scanner behind these checks', () => {
  it('finds every way a module can be imported or re-exported', () => {
    const text = [
      `import { produce } from 'immer';`,
      `import type { Redis } from "ioredis";`,
      `import {\n  Queue,\n  type Job,\n} from 'bullmq';`,
      `import * as fs from 'node:fs';`,
      `import 'fs';`,
      `export { x } from './x.js';`,
      `export * from '@celeriac/runtime';`,
      `export type { Y } from '../../runtime/src/y.js';`,
      `const os = await import('node:os');`,
      `type W = typeof import('worker_threads');`,
      `import path = require('path');`,
      `/// <reference types="node" />`,
    ].join('\n');
    expect(new Set(importSpecifiers(text))).toEqual(
      new Set([
        'immer',
        'ioredis',
        'bullmq',
        'node:fs',
        'fs',
        './x.js',
        '@celeriac/runtime',
        '../../runtime/src/y.js',
        'node:os',
        'worker_threads',
        'path',
        'node',
      ]),
    );
  });

  it('ignores imports written in comments and keeps strings that contain comment markers', () => {
    const text = [
      `/**`,
      ` * @example`,
      ` * import { createApp } from '@celeriac/runtime';`,
      ` */`,
      `// import fs from 'node:fs';`,
      `/* export * from 'bullmq'; */`,
      `const url = 'redis://localhost'; import { a } from './a.js';`,
    ].join('\n');
    expect(importSpecifiers(text)).toEqual(['./a.js']);
  });
});
