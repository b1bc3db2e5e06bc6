#!/usr/bin/env bash
# Makes a validator from PyPI runnable for the tests: a virtual environment .tools/<name> with pinned packages.
#
#   scripts/ensure-pypi-tool.sh <name> <command> <pins…>   -> prints the command's path on stdout
#
# Idempotent: with the pins installed (and the command running) it only prints the path. Environment:
# <NAME>=/path/to/command to use one you have (nothing is installed), PYTHON (default python3),
# <NAME>_FORCE=1 to reinstall. Callers: scripts/ensure-pyhanko.sh, scripts/ensure-schemathesis.sh.
set -euo pipefail

NAME="$1" COMMAND="$2"; shift 2
PINS="$*"
VAR="$(echo "$NAME" | tr '[:lower:]-' '[:upper:]_')"
GIVEN="${!VAR:-}"
if [[ -n "$GIVEN" ]]; then echo "$GIVEN"; exit 0; fi
FORCE_VAR="${VAR}_FORCE"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/$NAME"
BIN="$VENV/bin/$COMMAND"
STAMP="$VENV/.stamp"
PYTHON="${PYTHON:-python3}"

up_to_date() {
  [[ "${!FORCE_VAR:-0}" != 1 && -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$PINS" ]] &&
    "$BIN" --version >/dev/null 2>&1 # runs: a virtual environment moved with its folder keeps the old interpreter path
}

mkdir -p "$ROOT/.tools"
if up_to_date; then echo "$BIN"; exit 0; fi
# Serialise concurrent callers; re-check once the lock is held.
exec 9>"$ROOT/.tools/.$NAME.lock"
flock 9
if up_to_date; then echo "$BIN"; exit 0; fi

echo "ensure-$NAME: installing $PINS from PyPI into $VENV" >&2
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV" >&2
# shellcheck disable=SC2086
"$VENV/bin/pip" install --quiet --disable-pip-version-check $PINS >&2
echo "$PINS" >"$STAMP"
echo "$BIN"
