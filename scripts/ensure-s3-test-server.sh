#!/usr/bin/env bash
# Makes a real S3-compatible server runnable for the S3 blob store's tests, from the Go module proxy only:
# Versity S3 Gateway (Apache-2.0) with its posix backend, built into .tools/bin/versitygw.
#
#   scripts/ensure-s3-test-server.sh      -> prints the binary's path on stdout
#
# Idempotent: with the pinned version already built it only prints the path. The first build takes about
# two minutes here. Environment: GO (default go), S3_TEST_SERVER_FORCE=1 to rebuild.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=v1.8.0
MODULE=github.com/versity/versitygw/cmd/versitygw
BIN_DIR="$ROOT/.tools/bin"
BIN="$BIN_DIR/versitygw"
STAMP="$BIN_DIR/.versitygw.stamp"
GO="${GO:-go}"

up_to_date() {
  [[ "${S3_TEST_SERVER_FORCE:-0}" != 1 && -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$MODULE@$VERSION" ]]
}

mkdir -p "$BIN_DIR"
if up_to_date; then echo "$BIN"; exit 0; fi
# Serialise concurrent callers; re-check once the lock is held.
exec 9>"$BIN_DIR/.versitygw.lock"
flock 9
if up_to_date; then echo "$BIN"; exit 0; fi

command -v "$GO" >/dev/null || { echo "ensure-s3-test-server: $GO not found on PATH (Go 1.24+ is expected)" >&2; exit 1; }
# Go's own output goes to stderr: stdout is only the binary's path.
GOBIN="$BIN_DIR" GOFLAGS=-buildvcs=false "$GO" install "$MODULE@$VERSION" 1>&2
[[ -x "$BIN" ]] || { echo "ensure-s3-test-server: go install wrote no $BIN" >&2; exit 1; }
echo "$MODULE@$VERSION" > "$STAMP"
echo "$BIN"
