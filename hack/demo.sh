#!/usr/bin/env bash
# One command from a fresh clone to a running local vmkeeper: installs npm dependencies,
# builds, builds/caches the test peers (kube-apiserver, etcd) and runs hack/demo.mjs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash hack/ensure-deps.sh
npm run --silent build
bash hack/setup-test-env.sh >/dev/null
exec node hack/demo.mjs "$@"
