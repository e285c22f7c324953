#!/usr/bin/env bash
# Installs a Lua 5.1 interpreter (Debian's lua5.1), the Lua version Argo CD runs resource
# health checks with, and prints its path. The tests of config/argocd/ run every health.lua
# with it. Idempotent: does nothing when lua5.1 is already on PATH.
#
#   hack/install-lua.sh      installs what is missing, prints the lua5.1 path
#
# Everything goes to stderr except the path on the last line of stdout.
set -euo pipefail

log() { printf 'install-lua: %s\n' "$*" >&2; }
# shellcheck source=hack/lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

if ! command -v lua5.1 >/dev/null 2>&1; then
  apt_install_packages lua5.1
fi
command -v lua5.1 >/dev/null 2>&1 || { log "lua5.1 is still missing"; exit 1; }
lua5.1 -v >&2
command -v lua5.1
