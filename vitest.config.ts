import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string): string => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Tests import packages by name and run straight from src/: no build step before `npm test`.
const alias = {
  '@celeriac/canvas': src('canvas'),
  '@celeriac/runtime': src('runtime'),
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
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
          include: ['packages/*/test/**/*.int.test.ts', 'examples/**/*.int.test.ts'],
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
