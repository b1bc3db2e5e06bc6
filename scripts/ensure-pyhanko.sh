#!/usr/bin/env bash
# Makes pyHanko (an independent PDF signature validator, MIT) runnable for the PAdES tests, from PyPI only:
# a virtual environment in .tools/pyhanko with pinned pyhanko and pyhanko-cli.
#
#   scripts/ensure-pyhanko.sh      -> prints the pyhanko executable's path on stdout
#
# Idempotent: with the pinned versions installed it only prints the path. Environment: PYHANKO=/path/to/pyhanko
# to use one you have (nothing is installed), PYTHON (default python3), PYHANKO_FORCE=1 to reinstall.
set -euo pipefail

if [[ -n "${PYHANKO:-}" ]]; then echo "$PYHANKO"; exit 0; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PINS="pyhanko==0.38.0 pyhanko-cli==0.6.0"
VENV="$ROOT/.tools/pyhanko"
BIN="$VENV/bin/pyhanko"
STAMP="$VENV/.stamp"
PYTHON="${PYTHON:-python3}"

up_to_date() {
  [[ "${PYHANKO_FORCE:-0}" != 1 && -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$PINS" ]] &&
    "$BIN" --version >/dev/null 2>&1 # runs: a virtual environment moved with its folder keeps the old interpreter path
}

mkdir -p "$ROOT/.tools"
if up_to_date; then echo "$BIN"; exit 0; fi
# Serialise concurrent callers; re-check once the lock is held.
exec 9>"$ROOT/.tools/.pyhanko.lock"
flock 9
if up_to_date; then echo "$BIN"; exit 0; fi

echo "ensure-pyhanko: installing $PINS from PyPI into $VENV" >&2
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV" >&2
# shellcheck disable=SC2086
"$VENV/bin/pip" install --quiet --disable-pip-version-check $PINS >&2
echo "$PINS" >"$STAMP"
echo "$BIN"
