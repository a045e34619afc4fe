#!/bin/sh
# check-unit.sh UNIT DAEMON [NAME]: systemd-analyze verify on the unit (as NAME, e.g. an
# instance of a template), with ExecStart pointed at the built program (the installed path
# does not exist at build time).
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
name=${3:-oomwatchd.service}
sed "s|^ExecStart=.*|ExecStart=$2|" "$1" > "$dir/$name"
out=$(systemd-analyze verify --man=no "$dir/$name" 2>&1 || echo "verify failed")
# Complaints about units this machine lacks (no systemd as PID 1 here) are not ours.
mine=$(printf '%s\n' "$out" | grep -v -e '^$' -e 'dbus.socket' -e 'dbus.service' -e 'sysinit.target' \
  -e 'basic.target' -e 'multi-user.target' -e 'shutdown.target' -e 'Failed to prepare filename' \
  -e 'Unit .* not found' -e 'System has not been booted with systemd' || true)
if [ -n "$mine" ]; then
  printf '%s\n' "$mine"
  exit 1
fi
echo "systemd-analyze verify: clean"
