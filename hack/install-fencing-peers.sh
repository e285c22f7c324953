#!/usr/bin/env bash
# Installs the real power-fencing peers the tests run against, when they are missing:
#   ipmi_sim       (Debian package openipmi)      an IPMI-over-LAN BMC simulator
#   ipmitool       (Debian package ipmitool)      what the IPMI device runs
#   fence_ipmilan, fence_redfish (Debian package fence-agents, 4.12 on bookworm)
#
#   hack/install-fencing-peers.sh         installs what is missing, quietly; prints nothing else
#   hack/install-fencing-peers.sh --check exits 1 (and says what) when something is missing
#
# Idempotent: a machine that has them all runs no apt-get. Installing needs root (or
# password-less sudo) and Debian's apt; elsewhere it says what to install and exits 1.
set -euo pipefail

log() { printf 'install-fencing-peers: %s\n' "$*" >&2; }

# command -> Debian package. fence agents live in /usr/sbin, often not on a user's PATH.
declare -A PACKAGE=(
  [ipmi_sim]=openipmi
  [ipmitool]=ipmitool
  [fence_ipmilan]=fence-agents
  [fence_redfish]=fence-agents
)

have() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1; }

missing_packages() {
  local cmd
  for cmd in "${!PACKAGE[@]}"; do
    have "$cmd" || printf '%s\n' "${PACKAGE[$cmd]}"
  done | sort -u
}

mapfile -t packages < <(missing_packages)
[[ ${#packages[@]} -eq 0 ]] && exit 0

if [[ "${1:-}" == "--check" ]]; then
  log "missing: ${packages[*]} (run hack/install-fencing-peers.sh)"
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "cannot install ${packages[*]}: no apt-get here; install OpenIPMI (ipmi_sim), ipmitool and fence-agents (fence_ipmilan, fence_redfish) with your package manager"
  exit 1
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n env DEBIAN_FRONTEND=noninteractive)
  else
    log "cannot install ${packages[*]}: needs root (or password-less sudo); run: apt-get install ${packages[*]}"
    exit 1
  fi
fi

log "installing ${packages[*]} (apt-get)"
apt_log="$(mktemp)"
trap 'rm -f "$apt_log"' EXIT
export DEBIAN_FRONTEND=noninteractive
# Another installer (a parallel test run) may hold the dpkg lock: wait for it, do not fail.
APT_OPTS=(-o DPkg::Lock::Timeout=300)
apt_install() {
  "${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -q --no-install-recommends "${packages[@]}" >"$apt_log" 2>&1
}
# A fresh machine has no package lists yet (or stale ones): update once, then retry.
if ! apt_install; then
  if ! "${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -q >>"$apt_log" 2>&1 || ! apt_install; then
    tail -n 20 "$apt_log" >&2
    log "apt-get could not install ${packages[*]} (log above)"
    exit 1
  fi
fi

mapfile -t still < <(missing_packages)
if [[ ${#still[@]} -ne 0 ]]; then
  log "installed, but still missing commands from: ${still[*]}"
  exit 1
fi
log "installed ${packages[*]}"
