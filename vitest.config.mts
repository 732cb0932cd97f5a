import path from 'node:path';
import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const root = path.dirname(fileURLToPath(import.meta.url));

// SWC compiles the tests so that Nest's decorator metadata (constructor injection) is emitted.
const alias = Object.fromEntries(
  [
    'common',
    'config',
    'db',
    'storage',
    'queue',
    'kube',
    'lws',
    'autoscaler',
    'core',
    'gateway',
    'engine-sim',
    'kubelet',
    'testing',
  ].map((lib) => [`@troupe/${lib}`, path.resolve(root, `libs/${lib}/src/index.ts`)]),
);

const shared = {
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { alias },
};

export default defineConfig({
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: 'unit',
          include: [
            'apps/**/*.spec.ts',
            'libs/**/*.spec.ts',
            'scripts/**/*.spec.ts',
            'test/bench/**/*.spec.ts',
          ],
          environment: 'node',
        },
      },
      {
        ...shared,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
