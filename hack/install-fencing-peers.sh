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

# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"
ensure_packages install-fencing-peers.sh "${1:-}"
