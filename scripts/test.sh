#!/usr/bin/env bash
# `make test`: provision (own ports and data-test/), type-check, lint, and every test on real services.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/bootstrap.sh --test
# The three checks side by side (each uses one core; the machine has two), each one's output shown whole.
echo "[test] tsc --noEmit, eslint and layers (dependency-cruiser), side by side"
checks=$(mktemp -d)
npx tsc --noEmit -p tsconfig.json >"$checks/tsc" 2>&1 & pids=("tsc:$!")
npx eslint --max-warnings 0 . >"$checks/eslint" 2>&1 & pids+=("eslint:$!")
npm run --silent lint:layers >"$checks/layers" 2>&1 & pids+=("layers:$!")
failed=0
for p in "${pids[@]}"; do
  if wait "${p#*:}"; then echo "[test] ${p%%:*}: ok"; else echo "[test] ${p%%:*}: FAILED" >&2; failed=1; fi
  cat "$checks/${p%%:*}"
done
rm -rf "$checks"
[ "$failed" -eq 0 ] || exit 1
echo "[test] jest on real Temporal, PostgreSQL and SoftHSM2"
# A time limit well above a normal run (about 15 min): a hang fails fast and says where, instead of running
# into CI's own limit with nothing but the hung part's noise in the log.
limit="${ESEAL_TEST_TIME_LIMIT:-40m}"
status=0
# Two jest workers, each on a stack of its own (with-stack --stacks 2): most of a test file's time is spent waiting
# (on Temporal, timers, retries, other processes), so two files side by side use the two cores that one left
# half idle. A worker's heap grows with each file it runs (at ~80 files one in-band process reached node's
# default ~4 GB): 8 GB each (the machine has 23 GB); --logHeapUsage prints each file's heap.
workers="${ESEAL_TEST_WORKERS:-2}"
timeout --kill-after=60s "$limit" node --import tsx scripts/with-stack.ts --stacks "$workers" -- node --max-old-space-size=8192 node_modules/jest/bin/jest.js --ci --maxWorkers="$workers" --logHeapUsage "$@" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "[test] jest did not finish within $limit; test files started and not ended:" >&2
  awk '$2=="start"{s[$3]=$1} $2=="end"{delete s[$3]} END{n=0; for (f in s) {print "  " f " (started " s[f] ")"; n++} if (n==0) print "  none: every file ended, and something they left running (workers, servers) kept jest alive"}' test-artifacts/jest-progress.log >&2 || true
fi
[ "$status" -eq 0 ] || exit "$status"
echo "[test] all green in $(( $(date +%s) - start )) s"
