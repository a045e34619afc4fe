#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Real systemd-oomd (issue 14). Needs the systemd-oomd package in the guest root (Debian
# bookworm ships it apart from systemd; its /usr/bin/oomctl must not shadow ours). A slice with
# ManagedOOMMemoryPressure=kill holds an app-named scope whose hog is throttled by MemoryHigh;
# systemd-oomd kills the scope, and oomwatchd must report it as oomd-kill with the reason and
# the app keys, in oomctl watch --json and as one journal record. systemd-oomd kills only with
# "reclaim activity" (pgscan rising); this guest has neither swap nor disk, so that can fail to
# come: passed in every boot that ran this task alone, failed once after the session task.
. /usr/lib/oomwatch-guest/lib.sh
out=/tmp/oomd.json
scope=app-gnome-org.gnome.TextEditor-42
if [ ! -x /lib/systemd/systemd-oomd ]; then
  skip oomd-kill-reported "systemd-oomd is not installed in the guest root"
  exit 0
fi
info "memory pressure: $(head -1 /proc/pressure/memory 2>&1)"
# oomd acts only after pressure stays over the limit for this long (default 20 s).
mkdir -p /etc/systemd/oomd.conf.d
printf '[OOM]\nDefaultMemoryPressureDurationSec=2s\n' > /etc/systemd/oomd.conf.d/50-oomwatch-test.conf
printf '[Slice]\nManagedOOMMemoryPressure=kill\nManagedOOMMemoryPressureLimit=10%%\n' \
  > /etc/systemd/system/oomtest.slice
systemd-sysusers systemd-oom.conf
systemctl daemon-reload
systemctl start oomwatchd.service
check oomwatchd-running "oomwatchd: $(systemctl is-active oomwatchd)" systemctl is-active --quiet oomwatchd
systemctl restart systemd-oomd.service
check oomd-running "systemd-oomd: $(systemctl is-active systemd-oomd)" systemctl is-active --quiet systemd-oomd
following() { journalctl -u oomwatchd --no-pager | grep -q "Following systemd-oomd"; }
check oomd-followed "oomwatchd did not see org.freedesktop.oom1" wait_for 30 following

systemd-run --quiet --slice=oomtest.slice --unit=oomtest-placeholder sleep 1000
wait_for 30 test -d $CG/oomtest.slice
watch_bg "$out" --recursive /oomtest.slice
systemd-run --quiet --scope --slice=oomtest.slice --unit=$scope \
  -p MemoryHigh=40M -p MemorySwapMax=0 bash -c ". $G/lib.sh; hog_here 600" > /tmp/oomd-hog.log 2>&1 &
hog=$!
killed() { grep -q '"cgroup":"/oomtest.slice","kind":"oomd-kill"' "$out"; }
if wait_for 180 killed; then
  ok oomd-kill-reported
  line=$(grep '"cgroup":"/oomtest.slice","kind":"oomd-kill"' "$out" | head -1)
  info "$line"
  case $line in
    *'"reason":"memory-pressure"'*) ok oomd-kill-reason ;;
    *) fail oomd-kill-reason "$line" ;;
  esac
  case $line in
    *'"app-id":"org.gnome.TextEditor"'*) ok oomd-kill-app-id ;;
    *) fail oomd-kill-app-id "$line" ;;
  esac
  case $line in
    *"\"task-cgroup\":\"/oomtest.slice/$scope.scope\""*) ok oomd-kill-task-cgroup ;;
    *) fail oomd-kill-task-cgroup "$line" ;;
  esac
else
  fail oomd-kill-reported "no oomd-kill on /oomtest.slice in 180 s"
  show "$out"
  cat $CG/oomtest.slice/memory.pressure > /tmp/pressure 2>&1; show /tmp/pressure
  grep -E '^pgscan|^anon |^file ' $CG/oomtest.slice/memory.stat > /tmp/stat 2>&1; show /tmp/stat
  journalctl -u systemd-oomd --no-pager -n 15 > /tmp/oomd-tail.log 2>&1; show /tmp/oomd-tail.log
fi
journalctl -u systemd-oomd --no-pager | grep Killed > /tmp/oomd.log 2>&1; show /tmp/oomd.log
records() { journalctl --no-pager -o verbose OOMWATCH_KIND=oomd-kill | grep -c "OOMWATCH_APP_ID=org.gnome.TextEditor"; }
one_record() { [ "$(records)" = 1 ]; }
check oomd-kill-journal "journal records: $(records)" wait_for 10 one_record
kill "$WATCHER" "$hog" 2>/dev/null
systemctl stop oomtest-placeholder.service 2>/dev/null
