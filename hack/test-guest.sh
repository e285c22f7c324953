#!/usr/bin/env bash
# Builds the guest agent as a static Linux binary and runs its Go checks.
#   bash hack/test-guest.sh               build dist/guest/vmkeeper-guest, go vet, go test
#   bash hack/test-guest.sh --build-only  only the build (used by the TypeScript tests)
# Needs only Go (the module has no dependencies, nothing is downloaded).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/guest"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--mod=mod}" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
mkdir -p "$root/dist/guest"
go build -trimpath -ldflags="-s -w" -o "$root/dist/guest/vmkeeper-guest" ./cmd/vmkeeper-guest
[[ "${1:-}" == "--build-only" ]] && exit 0
echo "== go vet (guest)" >&2
go vet ./...
echo "== go test (guest)" >&2
go test -count=1 ./...
