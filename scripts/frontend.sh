#!/usr/bin/env bash
# Builds or tests the Vue client. `build`: npm ci (when needed) + production build into
# frontend/dist; `test`: the same plus the Vitest unit tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/frontend"
command -v npm >/dev/null || { echo "frontend: npm is missing (Node 20+ with npm 11)" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
case "${1:-build}" in
  build) npm run build ;;
  test) npm test && npm run build ;;
  *) echo "usage: frontend.sh build|test" >&2; exit 2 ;;
esac
