#!/usr/bin/env bash
# `make test`: provision (own ports and data-test/), type-check, lint, and every test on real services.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/bootstrap.sh --test
echo "[test] tsc --noEmit"; npx tsc --noEmit -p tsconfig.json
echo "[test] eslint"; npx eslint --max-warnings 0 .
echo "[test] layers (dependency-cruiser)"; npm run --silent lint:layers
echo "[test] jest on real Temporal, PostgreSQL and SoftHSM2"
node --import tsx scripts/with-stack.ts -- npx jest --ci "$@"
echo "[test] all green in $(( $(date +%s) - start )) s"
