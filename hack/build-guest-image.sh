#!/usr/bin/env bash
# Builds the tiny test guest for the end-to-end guest heartbeat test: a Debian kernel and an
# initramfs holding busybox, the static vmkeeper-guest and the virtio-serial modules.
#
# A test can ask the guest for one misbehaviour on the kernel command line (the default, no
# parameter, is none; the extra modules are then not loaded):
#   vmkeeper.test=watchdog   load i6300esb (heartbeat=2 s), open /dev/watchdog, feed it once, stop
#   vmkeeper.test=ioerror    load virtio_blk and keep writing new 64 KiB blocks of /dev/vda (1 GiB)
#   vmkeeper.test=poweroff   power off by itself (busybox poweroff -f: ACPI S5) after boot
#   vmkeeper.test=acpi       power off when the ACPI power button is pressed (virsh shutdown)
# Each mode prints "VMKEEPER-TEST: <what>" on the console when it acts.
#
#   bash hack/build-guest-image.sh          build (or reuse) and print the two paths
#
# Output, the last two lines on stdout:
#   kernel=<path to vmlinuz>
#   initrd=<path to initramfs.cpio.gz>
#
# Cached under ${VMKEEPER_CACHE_DIR:-$HOME/.cache/vmkeeper}/guest-image/<kernel version>/;
# the initramfs is rebuilt only when vmkeeper-guest or this script changed. Needs Debian
# (apt-get); as root it installs qemu-system-x86 and cpio when missing. No kernel package is
# installed into the system: the .deb is downloaded and unpacked into the cache.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${VMKEEPER_CACHE_DIR:-$HOME/.cache/vmkeeper}/guest-image"
apt_opts=(-o DPkg::Lock::Timeout=300 -y --no-install-recommends)
log() { echo "build-guest-image: $*" >&2; }

# Installs Debian packages that provide the given commands, when the commands are missing.
ensure_commands() {
  local missing=() pkg cmd
  for pair in "$@"; do
    cmd="${pair%%=*}" pkg="${pair#*=}"
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  [[ $(id -u) -eq 0 ]] || { log "missing ${missing[*]}; run as root or install them"; exit 1; }
  log "installing ${missing[*]}"
  apt-get "${apt_opts[@]}" install "${missing[@]}" >&2 || {
    apt-get -o DPkg::Lock::Timeout=300 update >&2
    apt-get "${apt_opts[@]}" install "${missing[@]}" >&2
  }
}

# The concrete linux-image-<version>-amd64 package that linux-image-amd64 points at.
kernel_package() {
  local pkg
  pkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
  if [[ -z "$pkg" ]]; then
    apt-get -o DPkg::Lock::Timeout=300 update >&2
    pkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
  fi
  [[ -n "$pkg" ]] || { log "cannot resolve linux-image-amd64"; exit 1; }
  echo "$pkg"
}

# Downloads a .deb (without installing it) and unpacks it into $2, once.
unpack_deb() {
  local pkg="$1" dest="$2" tmp
  [[ -f "$dest/.unpacked" ]] && return 0
  tmp="$(mktemp -d "$cache/dl.XXXXXX")"
  log "downloading $pkg"
  (cd "$tmp" && apt-get download "$pkg" >&2) || {
    apt-get -o DPkg::Lock::Timeout=300 update >&2
    (cd "$tmp" && apt-get download "$pkg" >&2)
  }
  rm -rf "$dest" && mkdir -p "$dest"
  dpkg-deb -x "$tmp"/*.deb "$dest"
  rm -rf "$tmp"
  touch "$dest/.unpacked"
}

# Prints the modules (paths relative to the module dir) needed for $@, dependencies first.
# The .deb ships no modules.dep (depmod makes it at install time), so dependencies are read
# from each module's own modinfo "depends=" field.
module_closure() {
  local moddir="$1"; shift
  local -A seen=()
  local order=()
  find_module() {
    local want="${1//-/_}" f base
    while IFS= read -r f; do
      base="$(basename "$f")"; base="${base%%.ko*}"
      if [[ "${base//-/_}" == "$want" ]]; then echo "${f#"$moddir"/}"; return 0; fi
    done < <(find "$moddir/kernel" -name '*.ko*')
    return 1
  }
  module_depends() {
    local file="$moddir/$1"
    case "$file" in
      *.xz) xz -dc "$file" ;;
      *.zst) zstd -dqc "$file" ;;
      *) cat "$file" ;;
    esac | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '
  }
  visit() {
    local name="$1" rel dep
    [[ -n "${seen[${name//-/_}]:-}" ]] && return 0
    seen[${name//-/_}]=1
    # Built-in drivers are listed in modules.builtin and need nothing.
    if grep -Eq "/${name}\.ko$" "$moddir/modules.builtin"; then return 0; fi
    rel="$(find_module "$name")" || { log "module $name not found in $moddir"; exit 1; }
    for dep in $(module_depends "$rel"); do visit "$dep"; done
    order+=("$rel")
  }
  local name
  for name in "$@"; do visit "$name"; done
  printf '%s\n' "${order[@]}"
}

# The opt-in misbehaviours (see the header), appended to /init before the console shell.
# Extra modules are loaded here, not at boot, so the default guest stays as it was.
write_test_modes() {
  cat <<'EOF'
test_mode="$(sed -n 's/.*vmkeeper\.test=\([a-z]*\).*/\1/p' /proc/cmdline)"
case "$test_mode" in
  watchdog)
    insmod /lib/modules/watchdog.ko
    insmod /lib/modules/i6300esb.ko heartbeat=2
    # Fed once, then the descriptor stays open and unfed: the device fires.
    ( exec 3>/dev/watchdog && echo 1 >&3 && echo "VMKEEPER-TEST: watchdog armed" && while true; do sleep 3600; done ) &
    ;;
  ioerror)
    insmod /lib/modules/virtio_blk.ko
    for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.5; done
    echo "VMKEEPER-TEST: writing /dev/vda"
    # New 64 KiB blocks, synchronously, ten a second: the host decides when storage runs out.
    ( n=0; while true; do dd if=/dev/urandom of=/dev/vda bs=64k count=1 seek=$n conv=notrunc,fsync 2>/dev/null; n=$(( (n + 1) % 16384 )); sleep 0.1; done ) &
    ;;
  poweroff)
    echo "VMKEEPER-TEST: powering off"
    poweroff -f
    ;;
  acpi)
    insmod /lib/modules/evdev.ko
    insmod /lib/modules/button.ko
    ( for i in 1 2 3 4 5 6 7 8 9 10; do
        for d in /sys/class/input/event*; do
          grep -q "Power Button" "$d/device/name" 2>/dev/null && ev="/dev/input/$(basename "$d")"
        done
        [ -n "${ev:-}" ] && break
        sleep 0.5
      done
      [ -n "${ev:-}" ] || { echo "VMKEEPER-TEST: no power button"; exit 0; }
      echo "VMKEEPER-TEST: waiting for the power button on $ev"
      dd if="$ev" of=/dev/null bs=24 count=1 2>/dev/null
      echo "VMKEEPER-TEST: power button pressed, powering off"
      poweroff -f ) &
    ;;
esac
EOF
}

write_init() {
  local dest="$1"; shift
  {
    cat <<'EOF'
#!/bin/busybox sh
# /init of the vmkeeper test guest (generated by hack/build-guest-image.sh).
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /run /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
EOF
    local m
    for m in "$@"; do echo "insmod /lib/modules/$(basename "$m") || echo \"init: insmod $(basename "$m") failed\""; done
    cat <<'EOF'
# No udev here: make the /dev/virtio-ports/<name> links ourselves.
mkdir -p /dev/virtio-ports
for i in 1 2 3 4 5 6 7 8 9 10; do
  for p in /sys/class/virtio-ports/*; do
    [ -r "$p/name" ] || continue
    n="$(cat "$p/name")"
    [ -n "$n" ] && ln -sf "/dev/$(basename "$p")" "/dev/virtio-ports/$n"
  done
  [ -e /dev/virtio-ports/org.vmkeeper.heartbeat.0 ] && break
  sleep 0.5
done
echo "init: virtio ports: $(ls /dev/virtio-ports)"
/bin/vmkeeper-guest --config /etc/vmkeeper-guest/config.json >/dev/console 2>&1 &
echo "init: vmkeeper-guest started"
echo "VMKEEPER-GUEST-READY"
EOF
    write_test_modes
    cat <<'EOF'
# A shell on the serial console, so tests (and people) can act inside the guest.
while true; do setsid cttyhack sh -l; done
EOF
  } >"$dest/init"
  chmod 0755 "$dest/init"
}

write_config() {
  mkdir -p "$1/etc/vmkeeper-guest"
  # The check makes the guest unhealthy while /run/vmkeeper-unhealthy exists (tests touch it
  # from the serial console); it runs every second so the change shows within two intervals.
  cat >"$1/etc/vmkeeper-guest/config.json" <<'EOF'
{
  "port": "/dev/virtio-ports/org.vmkeeper.heartbeat.0",
  "socket": "/run/vmkeeper-guest.sock",
  "checks": [
    {"name": "marker", "command": ["/bin/sh", "-c", "if [ -e /run/vmkeeper-unhealthy ]; then echo marker present; exit 1; fi"], "intervalMs": 1000, "timeoutMs": 2000}
  ]
}
EOF
}

main() {
  ensure_commands qemu-system-x86_64=qemu-system-x86 cpio=cpio gzip=gzip
  mkdir -p "$cache"
  local kpkg kver kdir bbdir out
  kpkg="$(kernel_package)"
  kver="${kpkg#linux-image-}"
  kdir="$cache/$kver/kernel"
  unpack_deb "$kpkg" "$kdir"
  bbdir="$cache/busybox-static"
  unpack_deb busybox-static "$bbdir"
  local vmlinuz="$kdir/boot/vmlinuz-$kver"
  [[ -f "$vmlinuz" ]] || { log "no $vmlinuz in $kpkg"; exit 1; }

  local guest_bin="$root/dist/guest/vmkeeper-guest"
  bash "$root/hack/test-guest.sh" --build-only >&2 || [[ -x "$guest_bin" ]] || { log "cannot build $guest_bin"; exit 1; }

  out="$cache/$kver/initramfs.cpio.gz"
  local stamp
  stamp="$(cat "$guest_bin" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-64)"
  if [[ -f "$out" && "$(cat "$out.stamp" 2>/dev/null)" == "$stamp" ]]; then
    log "up to date: $out"
  else
    local moddir="$kdir/lib/modules/$kver" staging mods=()
    [[ -f "$moddir/modules.builtin" ]] || { log "no modules.builtin in $moddir"; exit 1; }
    local closure
    closure="$(module_closure "$moddir" virtio_pci virtio_console)"
    mapfile -t mods <<<"$closure"
    # Copied but loaded only by the test modes (write_test_modes).
    local extra
    extra="$(module_closure "$moddir" virtio_pci virtio_console i6300esb virtio_blk evdev button | grep -vxF -f <(printf '%s\n' "${mods[@]}"))"
    staging="$(mktemp -d "$cache/initramfs.XXXXXX")"
    mkdir -p "$staging"/{bin,lib/modules,etc,proc,sys,dev,run,tmp}
    cp "$bbdir/bin/busybox" "$staging/bin/busybox"
    ln -s busybox "$staging/bin/sh"
    cp "$guest_bin" "$staging/bin/vmkeeper-guest"
    local m base
    local copied=("${mods[@]}")
    [[ -n "$extra" ]] && mapfile -t -O "${#copied[@]}" copied <<<"$extra"
    for m in "${copied[@]}"; do
      base="$(basename "$m")"
      case "$base" in
        *.ko.xz) xz -dc "$moddir/$m" >"$staging/lib/modules/${base%.xz}" ;;
        *.ko.zst) zstd -dqc "$moddir/$m" >"$staging/lib/modules/${base%.zst}" ;;
        *.ko) cp "$moddir/$m" "$staging/lib/modules/$base" ;;
      esac
    done
    local loaded=()
    for m in "${mods[@]}"; do base="$(basename "$m")"; loaded+=("${base%.ko*}.ko"); done
    log "modules: ${loaded[*]:-none (built in)}"
    write_init "$staging" "${loaded[@]}"
    write_config "$staging"
    (cd "$staging" && find . -print0 | cpio --null -o -H newc --quiet | gzip -9) >"$out.tmp"
    mv "$out.tmp" "$out"
    echo "$stamp" >"$out.stamp"
    printf '%s\n' "${loaded[@]}" >"$cache/$kver/modules.txt"
    rm -rf "$staging"
  fi
  echo "kernel=$vmlinuz"
  echo "initrd=$out"
}

main "$@"
