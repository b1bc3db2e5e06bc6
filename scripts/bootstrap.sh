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
  bash scripts/ensure-temporal-test-server.sh >/dev/null
  log "ofdrw checker of GB/T 38540 seals and OFD signatures (once, from Maven Central: tools/ofdrw-checker)"
  bash scripts/ensure-ofdrw-checker.sh >/dev/null
  log "EU DSS checker of PAdES and CAdES signatures (once, from Maven Central: tools/dss-checker)"
  bash scripts/ensure-dss-checker.sh >/dev/null
  log "S3-compatible test server (Versity S3 Gateway, built once from the Go module proxy)"
  bash scripts/ensure-s3-test-server.sh >/dev/null
  log "pyHanko, a PDF signature validator for the PAdES tests (once, from PyPI)"
  bash scripts/ensure-pyhanko.sh >/dev/null
  log "schemathesis, the API fuzzer that checks every answer against web/openapi.yaml (once, from PyPI)"
  bash scripts/ensure-schemathesis.sh >/dev/null
fi
if [ "$mode" = "--cluster" ]; then
  log "Temporal server $(grep -m1 '^VERSION=' scripts/ensure-temporal-cluster.sh | cut -d= -f2) and its SQL schema tool (built once from the Go module proxy)"
  bash scripts/ensure-temporal-cluster.sh >/dev/null
fi
log "ready"
