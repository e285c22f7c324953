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
# One build at a time (hack/test.sh starts one early in the background; the test asks again),
# and only a finished binary ever appears at its cached path.
exec 9>"$BIN_DIR.lock"
flock 9
if [[ ! -x "$BIN_DIR/promtool" ]]; then
  log "building promtool $PROMETHEUS_VERSION (go install, a few minutes)"
  tmp="$(mktemp -d "$BIN_DIR.build.XXXXXX")"
  GOBIN="$tmp" CGO_ENABLED=0 go install "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION" >&2
  mv "$tmp/promtool" "$BIN_DIR/promtool"
  rmdir "$tmp"
fi
"$BIN_DIR/promtool" --version >&2
printf '%s\n' "$BIN_DIR/promtool"
