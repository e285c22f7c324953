# shellcheck shell=bash
# apt_install_packages PACKAGE...: installs Debian packages with --no-install-recommends, as
# root or through password-less sudo, waiting for another installer's dpkg lock (parallel
# test runs) and running `apt-get update` once when the package lists are missing or stale.
# Sourced by the hack/install-*.sh scripts; they define log() first. Returns 1 (and says
# why) when it cannot install.
apt_install_packages() {
  local packages=("$@") sudo=() apt_log rc=0
  [[ ${#packages[@]} -eq 0 ]] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    log "cannot install ${packages[*]}: no apt-get here; install them with your package manager"
    return 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n env DEBIAN_FRONTEND=noninteractive)
    else
      log "cannot install ${packages[*]}: needs root (or password-less sudo); run: apt-get install --no-install-recommends ${packages[*]}"
      return 1
    fi
  fi
  apt_log="$(mktemp)"
  local opts=(-o DPkg::Lock::Timeout=300)
  log "installing ${packages[*]} (apt-get)"
  if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get "${opts[@]}" install -y -q --no-install-recommends "${packages[@]}" >"$apt_log" 2>&1; then
    if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get "${opts[@]}" update -q >>"$apt_log" 2>&1 ||
      ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get "${opts[@]}" install -y -q --no-install-recommends "${packages[@]}" >>"$apt_log" 2>&1; then
      tail -n 20 "$apt_log" >&2
      log "apt-get could not install ${packages[*]} (log above)"
      rc=1
    fi
  fi
  rm -f "$apt_log"
  return "$rc"
}

# ensure_packages SCRIPT [--check]: the flow of the peer install scripts. They define
# missing_packages() (prints the Debian packages still needed, one per line); this installs
# them (or, with --check, only says what is missing and returns 1) and then checks again.
ensure_packages() {
  local script="$1" mode="${2:-}" packages still
  mapfile -t packages < <(missing_packages)
  [[ ${#packages[@]} -eq 0 ]] && return 0
  if [[ "$mode" == "--check" ]]; then
    log "missing: ${packages[*]} (run hack/$script)"
    return 1
  fi
  apt_install_packages "${packages[@]}" || return 1
  mapfile -t still < <(missing_packages)
  if [[ ${#still[@]} -ne 0 ]]; then
    log "installed, but still missing: ${still[*]}"
    return 1
  fi
  log "installed ${packages[*]}"
}
