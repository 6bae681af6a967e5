// @ts-check
/**
 * ESLint flat config for the whole monorepo. TypeScript files are linted with type information
 * (typescript-eslint's project service reads the root tsconfig.json), so rules such as
 * no-floating-promises see real types. The package boundaries of DESIGN §1 are enforced here and
 * again, independently of ESLint, by packages/canvas/src/boundary.test.ts.
 */
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// Plain JavaScript (this file) gets js.configs.recommended only: it is in no tsconfig, so no types.
const TS_FILES = ['**/*.ts', '**/*.mts', '**/*.cts', '**/*.tsx'];
const tsIn = (/** @type {string} */ dir) => TS_FILES.map((glob) => `${dir}/${glob}`);
const TEST_FILES = ['**/*.test.ts', '**/*.test-d.ts'];

/** Relative paths that climb out of a package into a sibling package's sources. */
const intoSibling = (/** @type {string[]} */ names) => `^(\\.\\./)+(${names.join('|')})(/|$)`;

const monitorApiOnlyMessage =
  "@celeriac/monitor uses @celeriac/runtime's public API only: no Redis client, no BullMQ, no runtime internals (DESIGN §7).";
const monitorApiOnly = [
  { regex: '^(ioredis|bullmq)(/|$)', message: monitorApiOnlyMessage },
  { regex: '^@celeriac/(runtime|canvas)/', message: monitorApiOnlyMessage },
  { regex: intoSibling(['runtime', 'canvas', 'cli']), message: monitorApiOnlyMessage },
];
const cliApiOnlyMessage =
  "@celeriac/cli uses the public APIs of @celeriac/runtime and @celeriac/monitor only: no Redis client, no BullMQ, no internals (DESIGN §7).";
const monitorNoNode = "createMonitor's handler runs in any server: Node built-ins belong in packages/monitor/src/server.ts only.";

const canvasNoIo =
  '@celeriac/canvas is pure data: no I/O, no Node built-ins, no Redis, no other @celeriac package (DESIGN §1).';

export default defineConfig(
  globalIgnores(['**/dist/', '**/node_modules/', '**/coverage/', 'bench/results/', 'bench/.build/', '**/.redis-*/', 'scratch/']),

  js.configs.recommended,

  {
    files: TS_FILES,
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      'no-console': 'error',
    },
  },

  // Nothing read from Redis, a queue, a channel or a payload is ever run as code: no eval, no
  // Function constructor, no timer given a string, no node:vm (the README's "Guarantees").
  {
    files: TS_FILES,
    rules: {
      'no-eval': 'error',
      'no-new-func': 'error',
      '@typescript-eslint/no-implied-eval': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportDeclaration[source.value=/^(node:)?vm$/], CallExpression[callee.name="require"][arguments.0.value=/^(node:)?vm$/], ImportExpression[source.value=/^(node:)?vm$/]',
          message: 'No code path runs strings as code: node:vm is not used.',
        },
      ],
    },
  },

  // No import cycles: shared contracts get a module of their own instead (DESIGN §6).
  {
    files: TS_FILES,
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },

  // Programs whose job is to print.
  {
    files: ['scripts/**', 'examples/**', 'bench/**', 'packages/cli/**', 'packages/*/test/faults/**'],
    rules: { 'no-console': 'off' },
  },

  // canvas ← runtime ← cli, monitor: canvas does no I/O and depends on immer only.
  {
    files: tsIn('packages/canvas'),
    ignores: TEST_FILES,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({ name, message: canvasNoIo })),
          patterns: [
            { regex: '^node:', message: canvasNoIo },
            { regex: '^(ioredis|bullmq)(/|$)', message: canvasNoIo },
            { regex: '^@celeriac/', message: canvasNoIo },
            { regex: intoSibling(['runtime', 'cli', 'monitor']), message: canvasNoIo },
          ],
        },
      ],
    },
  },
  {
    files: tsIn('packages/runtime'),
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@celeriac/(cli|monitor)(/|$)',
              message: '@celeriac/runtime must not depend on cli or monitor; they depend on it (DESIGN §1).',
            },
            {
              regex: intoSibling(['cli', 'monitor']),
              message: '@celeriac/runtime must not depend on cli or monitor; they depend on it (DESIGN §1).',
            },
          ],
        },
      ],
    },
  },

  // The CLI is a thin layer over @celeriac/runtime's public API (and the monitor's): never Redis (DESIGN §7).
  {
    files: tsIn('packages/cli'),
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(ioredis|bullmq)(/|$)', message: cliApiOnlyMessage },
            { regex: '^@celeriac/(runtime|canvas|monitor)/', message: cliApiOnlyMessage },
            { regex: intoSibling(['runtime', 'canvas', 'monitor']), message: cliApiOnlyMessage },
          ],
        },
      ],
    },
  },

  // The monitor reads and acts through @celeriac/runtime's public API only, never Redis (DESIGN §7),
  // and its handler mounts in any server: no Node built-in outside the server file (server.ts).
  {
    files: tsIn('packages/monitor/src'),
    ignores: TEST_FILES,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({ name, message: monitorNoNode })),
          patterns: [
            { regex: '^node:', message: monitorNoNode },
            ...monitorApiOnly,
          ],
        },
      ],
    },
  },
  {
    files: ['packages/monitor/src/server.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: monitorApiOnly }] },
  },
);
