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

mapfile -t packages < <(missing_packages)
[[ ${#packages[@]} -eq 0 ]] && exit 0

if [[ "${1:-}" == "--check" ]]; then
  log "missing: ${packages[*]} (run hack/install-virt-peers.sh)"
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "cannot install ${packages[*]}: no apt-get here; install libvirt (daemon, QEMU driver, virsh) and qemu-system-x86_64 with your package manager"
  exit 1
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n env DEBIAN_FRONTEND=noninteractive)
  else
    log "cannot install ${packages[*]}: needs root (or password-less sudo); run: apt-get install --no-install-recommends ${packages[*]}"
    exit 1
  fi
fi

apt_log="$(mktemp)"
trap 'rm -f "$apt_log"' EXIT
export DEBIAN_FRONTEND=noninteractive
# Others may hold the dpkg lock (a parallel install): wait for it rather than fail.
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
  log "installed, but still missing: ${still[*]}"
  exit 1
fi
