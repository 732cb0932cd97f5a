export {
  applyMigrations,
  checkDrift,
  createMigration,
  findRepoRoot,
  migrationSlug,
  readMigrations,
  readSchema,
  resolveMigration,
} from './migrator';
export type { DriftResult, MigratorOptions } from './migrator';
export { openEngine, wasmPath } from './wasm-engine';
export type { EngineOptions, EngineSession, WasmSchemaEngine } from './wasm-engine';
