#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Deployment checks: the installed unit, activation file, bus policy and journal records under
# the real systemd and system bus (dbus-daemon or dbus-broker, whichever this boot runs).
. /usr/lib/oomwatch-guest/lib.sh
unit=oomwatchd.service
state() { systemctl show -P ActiveState,SubState "$unit" | paste -sd/; }
mainpid() { systemctl show -P MainPID "$unit"; }
log=/tmp/deploy.log

# 1. Before `systemctl enable`, the first client starts the daemon through the bus
#    (the activation file names the unit itself, not the enable-only alias).
before=$(systemctl is-enabled "$unit" 2>&1)/$(state)
if [ "$before" = disabled/inactive/dead ] && oomctl status > "$log" 2>&1 && [ "$(state)" = active/running ]; then
  ok deploy-activation-before-enable
else
  fail deploy-activation-before-enable "before: $before, after: $(state)"
  show "$log"
fi
systemctl stop "$unit"

# 2. As the README says: daemon-reload, enable --now.
if systemctl daemon-reload && systemctl enable --now "$unit" > "$log" 2>&1 &&
   [ "$(systemctl is-enabled "$unit")" = enabled ]; then
  ok deploy-enable-now
else
  fail deploy-enable-now "systemctl enable --now failed"
  show "$log"
fi

# 3. active (running) under its own hardening: only CAP_SYSLOG (bit 34), no new privileges,
#    seccomp, the OOM score adjustment, a memory limit, and it answers.
pid=$(mainpid)
caps=$(awk '$1 == "CapBnd:" { print $2 }' "/proc/$pid/status")
nnp=$(awk '$1 == "NoNewPrivs:" { print $2 }' "/proc/$pid/status")
seccomp=$(awk '$1 == "Seccomp:" { print $2 }' "/proc/$pid/status")
adj=$(cat "/proc/$pid/oom_score_adj")
max=$(cat "$MEMCG/system.slice/$unit/memory.max" "$MEMCG/system.slice/$unit/memory.limit_in_bytes" 2> /dev/null)
oomctl status > "$log" 2>&1
info "oomwatchd $pid: $(state), CapBnd $caps, NoNewPrivs $nnp, Seccomp $seccomp, oom_score_adj $adj, memory.max $max"
if [ "$(state)" = active/running ] && [ "$caps" = 0000000400000000 ] && [ "$nnp" = 1 ] &&
   [ "$seccomp" = 2 ] && [ "$adj" = -900 ] && [ "$max" = 1073741824 ] &&
   grep -q "hierarchy: cgroup v$HIERARCHY" "$log" && grep -q 'kernel log: read' "$log"; then
  ok deploy-active-running-hardened
else
  fail deploy-active-running-hardened "see the line above"
  show "$log"
fi

# 4. systemd-analyze: the unit verifies clean under the real systemd, and its exposure.
if systemd-analyze verify --man=no "/usr/lib/systemd/system/$unit" > "$log" 2>&1 && [ ! -s "$log" ]; then
  ok deploy-analyze-verify
else
  fail deploy-analyze-verify "systemd-analyze verify complained"
  show "$log"
fi
systemd-analyze security --no-pager "$unit" > "$log" 2>&1
line=$(grep 'Overall exposure level' "$log")
info "systemd-analyze security: $line"
exposure=$(echo "$line" | sed -n 's/.*: \([0-9.]*\) .*/\1/p')
if [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }'; then
  ok deploy-security-exposure
else
  fail deploy-security-exposure "exposure '$exposure' (target <= 2.0)"
  SHOW_LINES=100 show "$log"
fi

# 5. systemctl reload re-reads the configuration: a persistent watch appears, then goes.
conf=/etc/oomwatch/oomwatch.conf
cp "$conf" /tmp/oomwatch.conf.orig
persistent() { oomctl list --json | grep '"cgroup":"/system.slice"' | grep -q '"persistent":true'; }
printf 'Watch=/system.slice\n' >> "$conf"
reload1=$(systemctl reload "$unit" 2>&1 && wait_for 10 persistent && echo yes)
cp /tmp/oomwatch.conf.orig "$conf"
reload2=$(systemctl reload "$unit" 2>&1 && wait_for 10 sh -c '! oomctl list --json | grep -q "\"cgroup\":\"/system.slice\""' && echo yes)
if [ "$reload1" = yes ] && [ "$reload2" = yes ] && [ "$(mainpid)" = "$pid" ]; then
  ok deploy-reload
else
  fail deploy-reload "watch added: $reload1, removed: $reload2, pid $pid -> $(mainpid)"
  journalctl -u "$unit" --no-pager -n 20 > "$log"; show "$log"
fi

# 6. A real OOM's journal record, with the victim's fields.
id=5a0f6c1e9b3d4e7f8a2b6c4d1e0f9a3b
watch_bg /tmp/journal.json /system.slice
systemd-run --unit=oomwatch-hog-journal -p MemoryMax=32M -p MemorySwapMax=0 --wait --quiet \
  --pipe "$G/hog.sh" 256 > /tmp/hog.out 2>&1
victim=$(awk '$1 == "ready" { print $2 }' /tmp/hog.out)
record() {
  journalctl --no-pager -o verbose MESSAGE_ID=$id OOMWATCH_KIND=oom-kill \
    OOMWATCH_TASK_CGROUP=/system.slice/oomwatch-hog-journal.service > "$log" 2>&1
  grep -q "OOMWATCH_PID=$victim\$" "$log"
}
if [ -n "$victim" ] && wait_for 20 record && grep -q 'OOMWATCH_COMM=oom-hog$' "$log" &&
   grep -q 'OOMWATCH_UID=0$' "$log" && grep -q 'OOMWATCH_CGROUP=/system.slice$' "$log" &&
   grep -q 'OOMWATCH_OOM_CGROUP=/system.slice/oomwatch-hog-journal.service$' "$log"; then
  ok deploy-journal-oom-kill
else
  fail deploy-journal-oom-kill "no record naming pid '$victim'"
  show /tmp/hog.out "$log"
fi
info "journal: $(grep -E 'OOMWATCH_(KIND|PID|COMM|UID)=' "$log" | tr -d ' ' | paste -sd' ')"
# ... and the signal carries the watched cgroup's memory at the kill, read under the unit's
# hardening (its kept files opened below the cgroup's directory).
memory() { grep '"kind":"oom-kill"' /tmp/journal.json | grep -q '"usage":[0-9]'; }
if wait_for 20 memory; then
  ok deploy-oom-kill-memory
else
  fail deploy-oom-kill-memory "no oom-kill with the cgroup's usage"
  show /tmp/journal.json
fi

# 7. systemctl kill -s KILL: Restart= brings it back, and a client that held a watch still
#    gets the next kill.
restarts=$(systemctl show -P NRestarts "$unit")
systemctl kill -s KILL "$unit"
back() { [ "$(state)" = active/running ] && [ "$(mainpid)" != "$pid" ] && [ "$(mainpid)" != 0 ]; }
if wait_for 20 back && [ "$(systemctl show -P NRestarts "$unit")" = $((restarts + 1)) ]; then
  ok deploy-kill-restarted
else
  fail deploy-kill-restarted "$(state), pid $pid -> $(mainpid), NRestarts $restarts -> $(systemctl show -P NRestarts "$unit")"
fi
systemd-run --unit=oomwatch-hog-restart -p MemoryMax=32M -p MemorySwapMax=0 --wait --quiet \
  "$G/hog.sh" 256 > /dev/null 2>&1
if wait_for 20 sh -c '[ "$(grep -c "\"kind\":\"oom-kill\"" /tmp/journal.json)" -ge 2 ]'; then
  ok deploy-kill-client-rewatches
else
  fail deploy-kill-client-rewatches "oomctl watch got no event after the restart"
  show /tmp/journal.json
fi
kill "$WATCHER" 2> /dev/null
wait "$WATCHER" 2> /dev/null

# 8. After systemctl stop, a client call activates it again through the bus.
systemctl stop "$unit"
stopped=$(state)
if [ "$stopped" = inactive/dead ] && oomctl status > "$log" 2>&1 && [ "$(state)" = active/running ]; then
  ok deploy-stop-then-activation
else
  fail deploy-stop-then-activation "after stop: $stopped, after a call: $(state)"
  show "$log"
fi

# 9. The bus policy, as an unprivileged caller: the Manager interface yes, Reload() no (the
#    daemon says), Properties.Set no (the bus says), and owning the name no.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
call() {
  as_nobody gdbus call --system -d org.oomwatch.OomWatch1 -o /org/oomwatch/OomWatch1 -m "$@" 2>&1
}
status=$(as_nobody oomctl status 2>&1 | head -n 1)
reload=$(call org.oomwatch.OomWatch1.Manager.Reload)
set=$(call org.freedesktop.DBus.Properties.Set org.oomwatch.OomWatch1.Manager Version '<"x">')
own=$(as_nobody gdbus call --system -d org.freedesktop.DBus -o /org/freedesktop/DBus \
  -m org.freedesktop.DBus.RequestName org.oomwatch.OomWatch1 0 2>&1)
info "as nobody: status '$status'; Reload '$reload'; Properties.Set '$set'; RequestName '$own'"
if [ "${status#version:}" != "$status" ] && [ "${reload#*AccessDenied}" != "$reload" ] &&
   [ "${set#*AccessDenied}" != "$set" ] && [ "${own#*AccessDenied}" != "$own" ]; then
  ok deploy-bus-policy
else
  fail deploy-bus-policy "see the line above"
fi

# 10. A method call that carries a file descriptor is refused on both buses, for root and
#     nobody alike: by the policy (max_fds="0": AccessDenied) or, where the bus lets it
#     through, by the daemon (InvalidArgs).
fd_root=$("$G/call-with-fd.py" 2>&1)
fd_nobody=$(as_nobody "$G/call-with-fd.py" 2>&1)
info "a call with an fd: as root '$fd_root', as nobody '$fd_nobody'"
refused() { case $1 in *.AccessDenied | *.InvalidArgs) return 0 ;; esac; return 1; }
both_refused() { refused "$fd_root" && refused "$fd_nobody"; }
check deploy-bus-policy-no-fds "see the line above" both_refused
