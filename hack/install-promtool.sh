#!/usr/bin/env bash
# Builds Prometheus' promtool from the Go module proxy, pinned by version and cached, and
# prints the binary's path. Used to check the chart's alert rules (`promtool check rules`).
#
#   hack/install-promtool.sh      builds what is missing, prints the promtool path
#
# The cache lives under ${VMKEEPER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vmkeeper}/
# promtool/<version>/; a first build needs Go and takes several minutes, later runs none.
# Everything goes to stderr except the path on the last line of stdout.
set -euo pipefail

PROMETHEUS_VERSION="${VMKEEPER_PROMETHEUS_VERSION:-v0.316.0}"
CACHE_DIR="${VMKEEPER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vmkeeper}"
BIN_DIR="$CACHE_DIR/promtool/$PROMETHEUS_VERSION"

log() { printf 'install-promtool: %s\n' "$*" >&2; }

if [[ -x "$BIN_DIR/promtool" ]]; then
  printf '%s\n' "$BIN_DIR/promtool"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "cannot build promtool: no go on PATH"
  exit 1
fi
mkdir -p "$BIN_DIR"
log "building promtool $PROMETHEUS_VERSION (go install, a few minutes)"
GOBIN="$BIN_DIR" CGO_ENABLED=0 go install "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION" >&2
"$BIN_DIR/promtool" --version >&2
printf '%s\n' "$BIN_DIR/promtool"
