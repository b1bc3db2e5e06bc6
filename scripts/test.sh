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
# A time limit well above a normal run (about 15 min): a hang fails fast and says where, instead of running
# into CI's own limit with nothing but the hung part's noise in the log.
limit="${ESEAL_TEST_TIME_LIMIT:-40m}"
status=0
timeout --kill-after=60s "$limit" node --import tsx scripts/with-stack.ts -- npx jest --ci "$@" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "[test] jest did not finish within $limit; test files started and not ended:" >&2
  awk '$2=="start"{s[$3]=$1} $2=="end"{delete s[$3]} END{n=0; for (f in s) {print "  " f " (started " s[f] ")"; n++} if (n==0) print "  none: every file ended, and something they left running (workers, servers) kept jest alive"}' test-artifacts/jest-progress.log >&2 || true
fi
[ "$status" -eq 0 ] || exit "$status"
echo "[test] all green in $(( $(date +%s) - start )) s"
