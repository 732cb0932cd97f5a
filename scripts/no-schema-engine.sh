#!/bin/sh
echo "The native Prisma schema engine is not used by Troupe: migrations run with the WASM engine (npm run db:migrate)." >&2
exit 1
