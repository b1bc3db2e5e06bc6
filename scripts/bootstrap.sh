#!/usr/bin/env bash
# Installs what the project needs on a fresh machine, and nothing twice:
# Debian packages, npm dependencies from the lock file, the Temporal CLI and mailpit (built from the Go module
# proxy), and with --test the Java time-skipping test server and the browser; with --cluster (npm run cluster)
# also HAProxy and the Temporal server with its SQL schema tool.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"

log() { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------------------------
packages=(softhsm2 opensc openssl poppler-utils libnss3-tools python3-venv fonts-noto-cjk postgresql-client chromium)
[ "$mode" = "--cluster" ] && packages+=(haproxy) # the load balancer in front of the cluster's web processes
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- npm dependencies ------------------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- Temporal CLI ----------------------------------------------------------------------------
if [ -z "${TEMPORAL_CLI:-}" ] && ! command -v temporal >/dev/null && [ ! -x .tools/bin/temporal ]; then
  if ! command -v go >/dev/null; then
    echo "No Temporal CLI and no Go toolchain: set TEMPORAL_CLI to a temporal binary, or install Go." >&2
    exit 1
  fi
  log "building the Temporal CLI v1.5.1 from the Go module proxy (once; a few minutes)"
  GOBIN="$PWD/.tools/bin" GOFLAGS=-mod=mod go install github.com/temporalio/cli/cmd/temporal@v1.5.1
fi

# --- mailpit (the SMTP server make up and the tests deliver e-mail to; web UI and API to read it) ---
if [ ! -x .tools/bin/mailpit ] && ! command -v mailpit >/dev/null; then
  if ! command -v go >/dev/null; then
    echo "No mailpit and no Go toolchain: install Go (or put mailpit on PATH)." >&2
    exit 1
  fi
  log "building mailpit v1.33.1 from the Go module proxy (once)"
  GOBIN="$PWD/.tools/bin" GOFLAGS=-mod=mod go install github.com/axllent/mailpit@v1.33.1
fi

# --- test-only tools -------------------------------------------------------------------------
if [ "$mode" = "--test" ]; then
  # Independent of each other (Maven, Go, PyPI): built side by side, so a fresh machine waits for the longest,
  # not the sum; each one's messages are shown whole if it fails. The Maven builds share the local
  # repository .tools/m2, which Maven 3.8 does not lock: they run one after the other, in one job.
  log "test tools, side by side (each once): the Java time-skipping test server (Maven Central), the ofdrw checker of"
  log "  GB/T 38540 seals and OFD signatures and the EU DSS checker (Maven Central: tools/ofdrw-checker, tools/dss-checker), the S3-compatible test server (Versity"
  log "  S3 Gateway, Go module proxy), pyHanko for the PAdES tests and schemathesis, the API fuzzer (PyPI)"
  tool_logs=$(mktemp -d)
  tools=()
  for t in temporal-test-server+ofdrw-checker+dss-checker s3-test-server pyhanko schemathesis; do
    # The Java validators share one script (scripts/ensure-java-tool.sh NAME); the others have their own.
    ( for one in ${t//+/ }; do
        case "$one" in *-checker) bash scripts/ensure-java-tool.sh "$one" ;; *) bash "scripts/ensure-$one.sh" ;; esac >/dev/null || exit 1
      done ) 2>"$tool_logs/$t" &
    tools+=("$t:$!")
  done
  failed=0
  for t in "${tools[@]}"; do
    if ! wait "${t#*:}"; then echo "scripts/ensure-{${t%%:*}}.sh failed:" >&2; cat "$tool_logs/${t%%:*}" >&2; failed=1; fi
  done
  rm -rf "$tool_logs"
  [ "$failed" -eq 0 ] || exit 1
fi
if [ "$mode" = "--cluster" ]; then
  log "Temporal server $(grep -m1 '^VERSION=' scripts/ensure-temporal-cluster.sh | cut -d= -f2) and its SQL schema tool (built once from the Go module proxy)"
  bash scripts/ensure-temporal-cluster.sh >/dev/null
fi
log "ready"
