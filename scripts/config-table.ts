/** Prints the README's configuration table from the env schema: `npx tsx scripts/config-table.ts`. */
import { configTable } from '../libs/config/src/config-table';

console.log(configTable());
