#!/usr/bin/env node
// Runs `prisma generate` without Prisma's schema-engine binary download, which is unreachable on
// air-gapped machines: generate does not need the engine, it only checks that the file exists.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'node_modules', 'prisma', 'build', 'index.js');
if (!fs.existsSync(cli)) {
  // Production installs (npm ci --omit=dev) ship the generated client from the build stage.
  console.log('prisma-generate: prisma CLI not installed, skipping');
  process.exit(0);
}
const stub = path.join(root, 'scripts', 'no-schema-engine.sh');
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = stub;
const r = spawnSync(process.execPath, [cli, 'generate'], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
