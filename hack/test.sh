#!/usr/bin/env bash
# The whole test suite, the one command CI runs (through .ci/run) and the README gives.
#   npm test                 everything: lint, generated-file drift, unit and integration tests
#   npm test -- --unit       unit tests only (no API server needed)
# Integration tests start a real etcd + kube-apiserver on loopback; hack/setup-test-env.sh
# builds them once (pinned versions, cached) or uses KUBEBUILDER_ASSETS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash hack/ensure-deps.sh

only_unit=false
for arg in "$@"; do [[ "$arg" == "--unit" ]] && only_unit=true; done

if ! $only_unit; then
  # promtool (for the alert-rule test) builds from the Go module proxy in minutes on a fresh
  # machine: start it now, alongside the build, lint and peer setup; the test waits for it.
  promtool_log="$(mktemp)"
  bash hack/install-promtool.sh >"$promtool_log" 2>&1 &
  promtool_pid=$!
fi

echo "== build" >&2
npm run --silent build
echo "== lint" >&2
npx eslint --max-warnings=0 .
echo "== generated files are up to date" >&2
npm run --silent check:generated
echo "== guest agent vmkeeper-guest (Go: vet, tests, static binary)" >&2
bash hack/test-guest.sh >&2

globs=("dist/test/unit/**/*.test.js")
if ! $only_unit; then
  echo "== test peers (kube-apiserver, etcd, helm)" >&2
  assets="$(bash hack/setup-test-env.sh)"
  export VMKEEPER_TEST_ASSETS="$assets"
  globs+=("dist/test/integration/**/*.test.js")
  # The real Nova lab (Debian Zed, fake driver) for the tests that need it. Tests bring it
  # up themselves (idempotent); when this run started it, this run also stops it.
  if ! bash hack/nova-lab.sh status >/dev/null 2>&1; then
    echo "== real Nova lab (hack/nova-lab.sh up)" >&2
    bash hack/nova-lab.sh up >&2
    trap 'bash hack/nova-lab.sh down >/dev/null 2>&1 || true' EXIT
  fi
fi
if ! $only_unit; then
  wait "$promtool_pid" || { echo "== promtool build failed (the alert-rule test will report it):" >&2; tail -20 "$promtool_log" >&2; }
fi
echo "== tests" >&2
npx mocha --config .mocharc.json --timeout 180000 "${globs[@]}"
