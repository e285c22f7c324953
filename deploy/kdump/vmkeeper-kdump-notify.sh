#!/bin/bash
# Sends authenticated vmkeeper kdump notices (docs/protocols/kdump-notice.md) from a crashed
# host's kdump environment, so a HostFencing Kdump device holds the power-off until the dump
# is written. Needs bash (for /dev/udp), openssl and od; include them in the kdump initramfs
# (dracut: install_items / kdump.conf "extra_bins").
#
#   vmkeeper-kdump-notify.sh SERVICE_HOST KEY_FILE OPERATOR_IP PORT [started|done] [COUNT] [INTERVAL_S]
#
# Run it with "started" in a loop while the dump is written (kdump.conf: kdump_pre), then
# once with "done" (kdump_post).
set -eu
host="$1" key_file="$2" ip="$3" port="$4" phase="${5:-started}" count="${6:-1}" interval="${7:-1}"
case "$phase" in started|done) ;; *) echo "phase must be started or done" >&2; exit 2 ;; esac
# The key as hex, without one trailing newline (as the operator reads it).
hexkey="$(od -An -v -tx1 "$key_file" | tr -d ' \n' | sed 's/0a$//')"
i=0
while [ "$i" -lt "$count" ]; do
  ms="$(date +%s%3N)"
  signed="VMKD1 $host $phase $ms"
  mac="$(printf '%s' "$signed" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -hex | sed 's/^.*= *//')"
  printf '%s %s' "$signed" "$mac" >"/dev/udp/$ip/$port"
  i=$((i + 1))
  [ "$i" -lt "$count" ] && sleep "$interval"
done
exit 0
