#!/usr/bin/env bash
# Renders guest/deploy/cloud-init.yaml for one download location of the guest agent:
#   guest/deploy/render-cloud-init.sh URL [BINARY]  > user-data.yaml
# URL is where the VM downloads vmkeeper-guest from (https); BINARY (default
# dist/guest/vmkeeper-guest, built by hack/test-guest.sh --build-only) is the file served
# there, whose SHA-256 the VM checks before it installs anything.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
url="${1:-}"
binary="${2:-$here/../../dist/guest/vmkeeper-guest}"
[[ "$url" =~ ^https?://[^[:space:]\'\"]+$ ]] || { echo "usage: $0 URL [BINARY]   (URL: http(s)://..., no quotes or spaces)" >&2; exit 2; }
[[ -f "$binary" ]] || { echo "$binary not found: build it with hack/test-guest.sh --build-only" >&2; exit 1; }
sum="$(sha256sum "$binary" | awk '{print $1}')"
sed -e "s|@GUEST_URL@|$url|" -e "s|@GUEST_SHA256@|$sum|" "$here/cloud-init.yaml"
