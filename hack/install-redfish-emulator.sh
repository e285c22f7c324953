#!/usr/bin/env bash
# Installs the Redfish test peer — sushy-tools, OpenStack Ironic's Redfish BMC emulator — into
# a Python virtual environment, pinned and cached by version, and prints the venv folder.
# Run the emulator as `<venv>/bin/python -m sushy_tools.emulator.main --config FILE`; the same
# python has bcrypt for the htpasswd file (test/support/redfish-emulator.ts does both).
#
#   hack/install-redfish-emulator.sh      installs what is missing, prints the venv folder
#
# The cache lives under ${VMKEEPER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vmkeeper}/
# redfish-emulator/; a first install takes under a minute (PyPI), later runs none.
# VMKEEPER_PYTHON picks the interpreter (Python >= 3.9 with the venv module); by default the
# first python3.13 / 3.12 / 3.11 / 3.10 / python3 on PATH that can make a venv.
# Everything goes to stderr except the venv folder on the last line of stdout.
set -euo pipefail

SUSHY_TOOLS_VERSION="${VMKEEPER_SUSHY_TOOLS_VERSION:-2.2.0}"
CACHE_DIR="${VMKEEPER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vmkeeper}"
VENV="$CACHE_DIR/redfish-emulator/sushy-tools-$SUSHY_TOOLS_VERSION"

log() { printf 'install-redfish-emulator: %s\n' "$*" >&2; }

# The dependency set sushy-tools 2.2.0 resolved to on Python 3.11, so every machine runs the
# same emulator. Only used with the default sushy-tools version.
constraints() {
  cat <<'PINS'
bcrypt==5.0.0
blinker==1.9.0
certifi==2026.10.18
charset-normalizer==3.5.2
click==8.5.1
Flask==3.1.3
idna==3.20
itsdangerous==2.2.0
Jinja2==3.1.6
MarkupSafe==3.0.4
pbr==7.1.3
requests==2.34.2
tenacity==9.2.1
urllib3==2.8.0
WebOb==1.8.11
Werkzeug==3.1.9
setuptools==80.9.0
PINS
}

usable_python() {
  "$1" - <<'PY' >/dev/null 2>&1
import sys, venv, ensurepip
sys.exit(0 if sys.version_info >= (3, 9) else 1)
PY
}

pick_python() {
  local candidates=()
  if [[ -n "${VMKEEPER_PYTHON:-}" ]]; then
    candidates=("$VMKEEPER_PYTHON")
  else
    local name
    for name in python3.13 python3.12 python3.11 python3.10 python3; do
      command -v "$name" >/dev/null 2>&1 && candidates+=("$(command -v "$name")")
    done
  fi
  local py
  for py in "${candidates[@]}"; do
    if usable_python "$py"; then
      printf '%s\n' "$py"
      return 0
    fi
  done
  log "no Python >= 3.9 with the venv and ensurepip modules found (tried: ${candidates[*]:-none});"
  log "install one (Debian: apt-get install python3-venv) or set VMKEEPER_PYTHON"
  return 1
}

installed() {
  [[ -f "$VENV/.complete" && -x "$VENV/bin/python" ]] &&
    "$VENV/bin/python" -c 'import sushy_tools.emulator.main, bcrypt' >/dev/null 2>&1
}

# Builds the venv next to its final place and renames it into place, so a half-done install
# (killed, no network) is never taken for a finished one. Callers run the emulator as
# `$VENV/bin/python -m sushy_tools.emulator.main`, which does not depend on the folder the
# venv was built in (console-script shebangs would).
install() {
  local py tmp
  py="$(pick_python)"
  tmp="$VENV.tmp.$$"
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$(dirname "$VENV")"
  log "installing sushy-tools $SUSHY_TOOLS_VERSION with $py (Python $("$py" -c 'import platform; print(platform.python_version())'))"
  "$py" -m venv "$tmp"
  local cfile="$tmp/constraints.txt"
  if [[ "$SUSHY_TOOLS_VERSION" == "2.2.0" ]]; then constraints >"$cfile"; else : >"$cfile"; fi
  # pbr (sushy-tools' version helper) may import setuptools at run time; venvs of Python >= 3.12 have none.
  "$tmp/bin/python" -m pip --disable-pip-version-check --no-input --quiet \
    install -c "$cfile" "sushy-tools==$SUSHY_TOOLS_VERSION" setuptools >&2
  "$tmp/bin/python" -c 'import sushy_tools.emulator.main, bcrypt' >&2
  touch "$tmp/.complete"
  rm -rf "$VENV"
  mv "$tmp" "$VENV"
  trap - EXIT
  log "installed in $VENV"
}

# Concurrent test processes may call this at once: one installs, the others wait.
if ! installed; then
  mkdir -p "$(dirname "$VENV")"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$VENV.lock"
    flock 9
  fi
  installed || install
fi
printf '%s\n' "$VENV"
