#!/usr/bin/env bash
# Makes schemathesis (a property-based fuzzer driven by an OpenAPI description, MIT) runnable for the API
# fuzzing test, from PyPI only: a virtual environment in .tools/schemathesis with a pinned schemathesis.
#
#   scripts/ensure-schemathesis.sh      -> prints the schemathesis (`st`) executable's path on stdout
#
# Idempotent: with the pinned version installed it only prints the path. Environment: SCHEMATHESIS=/path/to/st
# to use one you have (nothing is installed), PYTHON (default python3), SCHEMATHESIS_FORCE=1 to reinstall.
set -euo pipefail

if [[ -n "${SCHEMATHESIS:-}" ]]; then echo "$SCHEMATHESIS"; exit 0; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PINS="schemathesis==4.32.5"
VENV="$ROOT/.tools/schemathesis"
BIN="$VENV/bin/st"
STAMP="$VENV/.stamp"
PYTHON="${PYTHON:-python3}"

up_to_date() {
  [[ "${SCHEMATHESIS_FORCE:-0}" != 1 && -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$PINS" ]] &&
    "$BIN" --version >/dev/null 2>&1 # runs: a virtual environment moved with its folder keeps the old interpreter path
}

mkdir -p "$ROOT/.tools"
if up_to_date; then echo "$BIN"; exit 0; fi
# Serialise concurrent callers; re-check once the lock is held.
exec 9>"$ROOT/.tools/.schemathesis.lock"
flock 9
if up_to_date; then echo "$BIN"; exit 0; fi

echo "ensure-schemathesis: installing $PINS from PyPI into $VENV" >&2
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV" >&2
# shellcheck disable=SC2086
"$VENV/bin/pip" install --quiet --disable-pip-version-check $PINS >&2
echo "$PINS" >"$STAMP"
echo "$BIN"
