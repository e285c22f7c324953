#!/usr/bin/env bash
# Installs the real libvirt peer the libvirt monitoring tests run against, when missing:
#   libvirtd (or virtqemud)  Debian packages libvirt-daemon, libvirt-daemon-driver-qemu
#   virsh                    Debian package  libvirt-clients
#   qemu-system-x86_64       Debian package  qemu-system-x86 (software emulation is enough)
#
#   hack/install-virt-peers.sh         installs what is missing, quietly; prints nothing else
#   hack/install-virt-peers.sh --check exits 1 (and says what) when something is missing
#
# Idempotent: a machine that has them all runs no apt-get. Only packages are installed; no
# daemon is started and nothing is configured (tests run a private daemon, test/support/libvirtd.ts).
set -euo pipefail

log() { printf 'install-virt-peers: %s\n' "$*" >&2; }

have() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1; }
have_qemu_driver() { compgen -G '/usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so' >/dev/null || compgen -G '/usr/lib*/libvirt/connection-driver/libvirt_driver_qemu.so' >/dev/null; }

missing_packages() {
  { have libvirtd || have virtqemud; } || echo libvirt-daemon
  have_qemu_driver || echo libvirt-daemon-driver-qemu
  have virsh || echo libvirt-clients
  have qemu-system-x86_64 || echo qemu-system-x86
}

# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"
ensure_packages install-virt-peers.sh "${1:-}"
