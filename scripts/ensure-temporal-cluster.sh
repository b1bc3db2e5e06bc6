#!/usr/bin/env bash
# Makes the Temporal server runnable for `npm run cluster`, from the Go module proxy only: the server and its
# SQL schema tool at the pinned version, built into .tools/bin/temporal-server and .tools/bin/temporal-sql-tool,
# the PostgreSQL schemas shipped in the server module copied to .tools/temporal-server-<version>/schema, and the
# Web UI server (the version the Temporal CLI embeds, so its modules are already cached: under a minute) into
# .tools/bin/temporal-ui-server.
#
#   scripts/ensure-temporal-cluster.sh     -> prints the server binary's path on stdout
#
# Idempotent: with the pinned version already built it only prints the path. The first build takes several
# minutes (the server is large). Environment: GO (default go), TEMPORAL_SERVER_FORCE=1 to rebuild.
# .tools may be shared between checkouts: this script only adds files to it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=v1.29.1
MODULE=go.temporal.io/server
UI_VERSION=v2.42.1
UI_MODULE=github.com/temporalio/ui-server/v2
BIN_DIR="$ROOT/.tools/bin"
SCHEMA_DIR="$ROOT/.tools/temporal-server-$VERSION/schema"
STAMP="$BIN_DIR/.temporal-server.stamp"
GO="${GO:-go}"

up_to_date() {
  [[ "${TEMPORAL_SERVER_FORCE:-0}" != 1 && -x "$BIN_DIR/temporal-server" && -x "$BIN_DIR/temporal-sql-tool" \
     && -x "$BIN_DIR/temporal-ui-server" && -d "$SCHEMA_DIR/postgresql/v12" && -f "$STAMP" \
     && "$(cat "$STAMP")" == "$MODULE@$VERSION $UI_MODULE@$UI_VERSION" ]]
}

mkdir -p "$BIN_DIR"
if up_to_date; then echo "$BIN_DIR/temporal-server"; exit 0; fi
exec 9>"$BIN_DIR/.temporal-server.lock"
flock 9
if up_to_date; then echo "$BIN_DIR/temporal-server"; exit 0; fi

command -v "$GO" >/dev/null || { echo "ensure-temporal-cluster: $GO not found on PATH (Go 1.24+ is expected)" >&2; exit 1; }
# `go install` names the binaries after their folders (server, sql): build in a scratch GOBIN, then install
# them under names that say what they are.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
echo "ensure-temporal-cluster: building $MODULE $VERSION (server and SQL tool; several minutes once) and the Web UI server $UI_VERSION" >&2
GOBIN="$scratch" GOFLAGS=-mod=mod "$GO" install "$MODULE/cmd/server@$VERSION" "$MODULE/cmd/tools/sql@$VERSION" 1>&2
install -m 0755 "$scratch/server" "$BIN_DIR/temporal-server"
install -m 0755 "$scratch/sql" "$BIN_DIR/temporal-sql-tool"
mkdir "$scratch/ui"
GOBIN="$scratch/ui" GOFLAGS=-mod=mod "$GO" install "$UI_MODULE/cmd/server@$UI_VERSION" 1>&2
install -m 0755 "$scratch/ui/server" "$BIN_DIR/temporal-ui-server"
# The schemas the tool applies come with the module that was just built.
module_dir="$("$GO" env GOMODCACHE)/$MODULE@$VERSION"
mkdir -p "$SCHEMA_DIR"
cp -r "$module_dir/schema/postgresql" "$SCHEMA_DIR/"
chmod -R u+w "$SCHEMA_DIR"
echo "$MODULE@$VERSION $UI_MODULE@$UI_VERSION" > "$STAMP"
echo "$BIN_DIR/temporal-server"
