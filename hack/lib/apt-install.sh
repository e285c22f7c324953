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
