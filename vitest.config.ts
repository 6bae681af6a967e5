import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import packages by name and run straight from src/: no build step before `npm test`.
// Every packages/<name> with a src/index.ts is @celeriac/<name> (docs/packaging.md).
const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));
const alias = Object.fromEntries(
  readdirSync(packagesDir)
    .filter((name) => existsSync(`${packagesDir}${name}/src/index.ts`))
    .map((name) => [`@celeriac/${name}`, `${packagesDir}${name}/src/index.ts`]),
);

export default defineConfig({
  resolve: { alias },
  test: {
    globalSetup: ['./test/generate-global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/scripts/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'types',
          include: [],
          typecheck: {
            enabled: true,
            only: true,
            include: ['packages/*/src/**/*.test-d.ts'],
            tsconfig: './tsconfig.json',
          },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.int.test.ts', 'examples/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          globalSetup: ['./test/redis-global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          // Files share one redis-server; each test uses its own prefix, but SIGKILL tests are
          // timing-sensitive on 2 cores, so files run one at a time.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // The fault, abuse and load suite (packages/runtime/test/faults/README.md): each file runs
          // its own redis-server, to restart it or kill its clients. `npm test` runs it at a reduced
          // size; `npm run test:faults` at full size (CELERIAC_FAULTS_SIZE, CELERIAC_FAULTS_SEED).
          name: 'faults',
          include: ['packages/*/test/faults/**/*.faults.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // Private Redis Clusters (scripts/private-cluster.ts); each test starts and stops its own.
          name: 'cluster',
          include: ['scripts/**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
