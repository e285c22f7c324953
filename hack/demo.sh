#!/usr/bin/env bash
# One command from a fresh clone to the local vmkeeper demo (docs/demo.md): installs npm
# dependencies, builds, builds/caches the test peers (kube-apiserver, etcd), installs the IPMI
# simulator when it can without asking (root or password-less sudo; otherwise the demo runs
# without power fencing and says so) and runs hack/demo.mjs.
#   npm run demo              the story, then everything keeps running until Ctrl-C
#   npm run demo -- --ci      the story, checked, cleaned up; exit 0 when it ended as promised
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash hack/ensure-deps.sh
npm run --silent build
bash hack/setup-test-env.sh >/dev/null
if [[ -z "${VMKEEPER_DEMO_NO_INSTALL:-}" ]] && ! bash hack/install-fencing-peers.sh --check 2>/dev/null; then
  bash hack/install-fencing-peers.sh </dev/null || echo "demo: could not install the IPMI simulator; continuing without power fencing" >&2
fi
exec node hack/demo.mjs "$@"
