#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# check-unit.sh UNIT PROGRAM [--user | NAME]: systemd-analyze verify on the unit (as NAME, e.g. an
# instance of a template; --user: as a user unit), with ExecStart pointed at the built program
# (the installed path does not exist at build time).
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
user=
name=$(basename "$1")
case "${3:-}" in
  --user) user=--user; export XDG_RUNTIME_DIR="$dir" ;; # a user manager wants a runtime directory
  ?*) name=$3 ;;
esac
unit=$dir/$name
sed "s|^ExecStart=.*|ExecStart=$2|" "$1" > "$unit"
out=$(systemd-analyze verify $user --man=no "$unit" 2>&1 || echo "verify failed")
# Complaints about units this machine lacks (no systemd as PID 1 here) are not ours.
mine=$(printf '%s\n' "$out" | grep -v -e '^$' -e 'dbus.socket' -e 'dbus.service' -e 'sysinit.target' \
  -e 'basic.target' -e 'multi-user.target' -e 'graphical-session.target' -e 'shutdown.target' -e 'Failed to prepare filename' \
  -e 'Unit .* not found' -e 'System has not been booted with systemd' || true)
if [ -n "$mine" ]; then
  printf '%s\n' "$mine"
  exit 1
fi
echo "systemd-analyze verify: clean"
