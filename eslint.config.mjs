// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Dependency direction (docs/architecture.md):
//   apps -> libs/core, libs/gateway -> libs/{db,storage,queue,kube,lws,config} -> libs/common;
//   apps/cluster-sim, apps/node-agent -> libs/kubelet -> libs/engine-sim -> libs/common;
//   apps/node-agent -> libs/kube (its API client and watch cache: client-node stays behind libs/kube).
// One row per layer: its files and what they may not import. Rows do not overlap, because ESLint
// replaces (does not merge) a rule configured twice for the same file.
const APPS = ['**/apps/**'];
const KUBE_CLIENT = '@kubernetes/client-node';
const NODE_AGENT_FORBID = [
  '@troupe/*',
  '!@troupe/common',
  '!@troupe/kube',
  '!@troupe/kubelet',
  '!@troupe/engine-sim',
  KUBE_CLIENT,
  '**/apps/server/**',
  '**/apps/cli/**',
];
/** @type {{ files: string[]; ignores?: string[]; forbid: string[] }[]} */
const layers = [
  { files: ['libs/common/**/*.ts'], forbid: ['@troupe/*', KUBE_CLIENT, ...APPS] },
  {
    files: ['libs/{lws,engine-sim,autoscaler}/**/*.ts'],
    forbid: ['@troupe/*', '!@troupe/common', KUBE_CLIENT, ...APPS],
  },
  {
    files: ['libs/kubelet/**/*.ts'],
    forbid: ['@troupe/*', '!@troupe/common', '!@troupe/engine-sim', KUBE_CLIENT, ...APPS],
  },
  {
    files: ['libs/{config,db,storage,queue}/**/*.ts'],
    forbid: [
      '@troupe/core',
      '@troupe/gateway',
      '@troupe/kube',
      '@troupe/testing',
      '@troupe/engine-sim',
      '@troupe/kubelet',
      KUBE_CLIENT,
      ...APPS,
    ],
  },
  {
    files: ['libs/kube/**/*.ts'],
    forbid: [
      '@troupe/core',
      '@troupe/gateway',
      '@troupe/testing',
      '@troupe/engine-sim',
      '@troupe/kubelet',
      ...APPS,
    ],
  },
  {
    files: ['libs/{core,gateway}/**/*.ts'],
    forbid: ['@troupe/testing', '@troupe/engine-sim', '@troupe/kubelet', KUBE_CLIENT, ...APPS],
  },
  { files: ['libs/testing/**/*.ts'], forbid: [KUBE_CLIENT, ...APPS] },
  {
    files: ['apps/server/**/*.ts'],
    forbid: [
      '@troupe/testing',
      '@troupe/engine-sim',
      '@troupe/kubelet',
      KUBE_CLIENT,
      '**/apps/cli/**',
      '**/apps/cluster-sim/**',
      '**/apps/node-agent/**',
    ],
  },
  {
    files: ['apps/cluster-sim/**/*.ts'],
    forbid: [
      '@troupe/*',
      '!@troupe/common',
      '!@troupe/lws',
      '!@troupe/engine-sim',
      '!@troupe/kubelet',
      KUBE_CLIENT,
      '**/apps/server/**',
      '**/apps/cli/**',
      '**/apps/node-agent/**',
    ],
  },
  // The node agent: the shared kubelet against any API server, through libs/kube. Its integration
  // spec runs it against the cluster simulator (as test/ does), hence the second row.
  {
    files: ['apps/node-agent/**/*.ts'],
    ignores: ['apps/node-agent/**/*.spec.ts'],
    forbid: [...NODE_AGENT_FORBID, '**/apps/cluster-sim/**'],
  },
  { files: ['apps/node-agent/**/*.spec.ts'], forbid: NODE_AGENT_FORBID },
  {
    files: ['apps/cli/**/*.ts'],
    forbid: [
      '@troupe/*',
      '!@troupe/common',
      KUBE_CLIENT,
      '**/apps/server/**',
      '**/apps/cluster-sim/**',
      '**/apps/node-agent/**',
    ],
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'libs/db/src/generated/**', '.troupe/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...layers.map(({ files, ignores, forbid }) => ({
    files,
    ...(ignores ? { ignores } : {}),
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: forbid, message: 'breaks the dependency direction in docs/architecture.md' }] },
      ],
    },
  })),
);
