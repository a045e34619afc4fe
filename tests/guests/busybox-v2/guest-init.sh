#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the cgroup v2 test guest: mounts, starts the bus and oomwatchd, runs each scenario
# with `oomctl watch --json` as the client, and prints one OOMWATCH-CASE line per scenario and
# OOMWATCH-DONE at the end for the host to check.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/usr/sbin
mkdir -p /proc /sys /dev /tmp /run/dbus
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo +memory > /sys/fs/cgroup/cgroup.subtree_control

export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket
dbus-daemon --config-file=/etc/oomwatch/system-bus.conf --address="$DBUS_SYSTEM_BUS_ADDRESS" --fork
oomwatchd --verbose > /tmp/oomwatchd.log 2>&1 &
for i in $(seq 200); do oomctl status > /dev/null 2>&1 && break; sleep 0.05; done
oomctl status

CG=/sys/fs/cgroup
failures=0

pass() { echo "OOMWATCH-CASE $1 PASS"; }
fail() { echo "OOMWATCH-CASE $1 FAIL: $2"; failures=$((failures + 1)); }

# make NAME LIMIT: a cgroup with a memory limit and no swap
make() {
  mkdir -p "$CG/$1"
  echo "$2" > "$CG/$1/memory.max"
  echo 0 > "$CG/$1/memory.swap.max" 2>/dev/null
}

# watch_start OUT CGROUP… : oomctl watch in the background, once the daemon holds the watch
watch_start() {
  out=$1; shift
  oomctl watch --json --timeout 6 "$@" > "$out" 2>&1 &
  watcher=$!
  for i in $(seq 200); do
    [ "$(oomctl list --json | grep -c "\"cgroup\":\"$1\"")" -ge 1 ] && break
    sleep 0.05
  done
}

# sum OUT CGROUP KIND: total of "count" over the matching OomEvent lines
sum() {
  grep "\"cgroup\":\"$2\",\"kind\":\"$3\"" "$1" | sed 's/.*"count":\([0-9]*\).*/\1/' |
    awk '{ s += $1 } END { print s + 0 }'
}

# counter CGROUP KEY: the kernel's value in memory.events
counter() { awk -v k="$2" '$1 == k { print $2 }' "$CG$1/memory.events"; }

hog() { oom-hog "$CG$1" "$2" > /dev/null 2>&1; }

# 1. kill: oom + oom-kill, exact counts
make kill 32M
watch_start /tmp/kill.out /kill
hog /kill 256
wait $watcher
cat /tmp/kill.out
oom=$(sum /tmp/kill.out /kill oom); kills=$(sum /tmp/kill.out /kill oom-kill)
first=$(head -n 1 /tmp/kill.out | sed 's/.*"kind":"\([a-z-]*\)".*/\1/')
if [ "$kills" = 1 ] && [ "$oom" -ge 1 ] && [ "$oom" = "$(counter /kill oom)" ] && [ "$first" = oom ] &&
   grep -q '"kind":"oom-kill","count":1,"details":{.*"total":1' /tmp/kill.out; then
  pass kill
else
  fail kill "oom=$oom (kernel $(counter /kill oom)) oom-kill=$kills first=$first"
fi

# 2. memory.oom.group=1: oom-group-kill
make group 32M
echo 1 > $CG/group/memory.oom.group
watch_start /tmp/group.out /group
hog /group 256
wait $watcher
cat /tmp/group.out
groups=$(sum /tmp/group.out /group oom-group-kill)
if [ "$groups" = 1 ] && [ "$groups" = "$(counter /group oom_group_kill)" ]; then
  pass group-kill
else
  fail group-kill "oom-group-kill=$groups (kernel $(counter /group oom_group_kill))"
fi

# 3. a child's OOM is seen on the watched parent (memory.events is hierarchical)
mkdir -p $CG/parent
echo +memory > $CG/parent/cgroup.subtree_control
make parent/child 32M
watch_start /tmp/parent.out /parent
hog /parent/child 256
wait $watcher
cat /tmp/parent.out
oom=$(sum /tmp/parent.out /parent oom); kills=$(sum /tmp/parent.out /parent oom-kill)
if [ "$kills" = 1 ] && [ "$oom" -ge 1 ] && [ "$oom" = "$(counter /parent oom)" ]; then
  pass hierarchical
else
  fail hierarchical "parent oom=$oom oom-kill=$kills (kernel $(counter /parent oom)/$(counter /parent oom_kill))"
fi

# 4. rmdir while watched: WatchRemoved and nothing else; oomctl exits by itself
make gone 32M
watch_start /tmp/gone.out /gone
rmdir $CG/gone
wait $watcher
status=$?
cat /tmp/gone.out
if [ "$status" = 0 ] && [ "$(wc -l < /tmp/gone.out)" = 1 ] &&
   grep -q '"signal":"WatchRemoved","cgroup":"/gone","reason":"cgroup-removed"' /tmp/gone.out &&
   [ -z "$(oomctl list --json)" ]; then
  pass rmdir
else
  fail rmdir "exit $status, output above"
fi

# 5. two OOMs in a row: counts add up, nothing lost
make twice 32M
watch_start /tmp/twice.out /twice
hog /twice 256
hog /twice 256
wait $watcher
cat /tmp/twice.out
kills=$(sum /tmp/twice.out /twice oom-kill); oom=$(sum /tmp/twice.out /twice oom)
if [ "$kills" = 2 ] && [ "$oom" = "$(counter /twice oom)" ] && [ "$(counter /twice oom_kill)" = 2 ]; then
  pass two-in-a-row
else
  fail two-in-a-row "oom=$oom (kernel $(counter /twice oom)) oom-kill=$kills"
fi

# 6. a cgroup without the memory controller is refused with a named error; the root is not:
#    it reports every kill on the machine
mkdir -p $CG/parent/child/plain
oomctl watch --json --count 1 --timeout 60 / > /tmp/root.out 2>&1 &
watcher=$!
for i in $(seq 200); do oomctl list | grep -q "^/ " && break; sleep 0.05; done
make rootkill 32M
oom-hog $CG/rootkill 256 > /dev/null 2>&1
wait $watcher
if oomctl watch /parent/child/plain 2>&1 | grep -q "not a memory cgroup" &&
   grep -q '"cgroup":"/","kind":"oom-kill"' /tmp/root.out; then
  pass refused
else
  fail refused "$(oomctl watch /parent/child/plain 2>&1; cat /tmp/root.out)"
fi

# 7. a recursive watch names the process killed in a grandchild created after it began
mkdir -p $CG/rec
echo +memory > $CG/rec/cgroup.subtree_control
oomctl watch --json --recursive --timeout 8 /rec > /tmp/rec.out 2>&1 &
watcher=$!
for i in $(seq 200); do oomctl list | grep -q "^/rec " && break; sleep 0.05; done
mkdir $CG/rec/a
echo +memory > $CG/rec/a/cgroup.subtree_control
make rec/a/b 32M
for i in $(seq 200); do oomctl list | grep -q "^/rec/a/b " && break; sleep 0.05; done
oom-hog $CG/rec/a/b 256 > /tmp/hog.out 2>&1
pid=$(awk '$1 == "ready" { print $2 }' /tmp/hog.out)
wait $watcher
cat /tmp/rec.out
named=$(grep '"cgroup":"/rec/a/b","kind":"oom-kill","count":1' /tmp/rec.out |
  grep "\"pid\":$pid," | grep '"comm":"oom-hog"' | grep -c '"task-cgroup":"/rec/a/b"')
on_top=$(grep '"cgroup":"/rec","kind":"oom-kill","count":1' /tmp/rec.out | grep -c "\"pid\":$pid,")
if [ "$named" = 1 ] && [ "$on_top" = 1 ]; then
  pass recursive-named
else
  fail recursive-named "pid $pid: named on /rec/a/b $named times, on /rec $on_top times"
fi

# 8. memory pressure (issue 15): a hog throttled at memory.high (the kernel counts the
# throttling as memory stall) brings MemoryPressure with the PSI averages; then memory.high is
# lifted and the hog is killed at memory.max: the levels come before the kill, never going
# down; memory.events high rises reach the watcher that asked (--events high). The kernel
# needs psi=1 (Debian builds PSI disabled by default).
make press 40M
echo 24M > $CG/press/memory.high
oomctl watch --json --pressure low --events high --timeout 60 /press > /tmp/press.out 2>&1 &
watcher=$!
for i in $(seq 200); do oomctl list | grep -q "^/press .* low/3 " && break; sleep 0.05; done
armed=$(oomctl list | grep -c "^/press .* low/3 ")
oom-hog $CG/press 256 > /dev/null 2>&1 &
hog=$!
for i in $(seq 400); do grep -q '"signal":"MemoryPressure"' /tmp/press.out && break; sleep 0.05; done
echo max > $CG/press/memory.high
wait $hog
for i in $(seq 100); do grep -q '"kind":"oom-kill"' /tmp/press.out && break; sleep 0.05; done
kill $watcher
wait $watcher
cat /tmp/press.out
levels=$(awk '/"kind":"oom-kill"/ { exit } /"signal":"MemoryPressure"/ {
  l = $0; sub(/.*"level":"/, "", l); sub(/".*/, "", l); printf "%s ", l }' /tmp/press.out)
ordered=$(echo "$levels" | awk '{ r["low"] = 1; r["medium"] = 2; r["critical"] = 3; ok = NF > 0
  for (i = 2; i <= NF; i++) if (r[$i] < r[$(i - 1)]) ok = 0; print ok }')
averages=$(grep '"signal":"MemoryPressure"' /tmp/press.out | head -n 1 | grep '"some-avg10":' |
  grep -c '"full-avg10":')
highs=$(grep -c '"cgroup":"/press","kind":"high"' /tmp/press.out)
if [ "$armed" = 1 ] && [ "$ordered" = 1 ] && [ "$averages" = 1 ] && [ "$highs" -ge 1 ] &&
   grep -q '"kind":"oom-kill"' /tmp/press.out; then
  pass pressure
else
  fail pressure "armed=$armed levels before the kill: '$levels' averages=$averages high=$highs"
fi

# 9. memory.events low (an opt-in kind): a child fully protected by memory.low in a parent at
# its limit is reclaimed anyway (the kernel counts each such reclaim in "low"); the watcher
# that asked gets exactly the counter's rise, the one that did not gets no "low" at all.
make lowp 32M
echo +memory > $CG/lowp/cgroup.subtree_control
mkdir -p $CG/lowp/c
echo max > $CG/lowp/c/memory.low
oomctl watch --json --timeout 8 /lowp/c > /tmp/plain.out 2>&1 &
plain=$!
watch_start /tmp/low.out /lowp/c --events low
for i in $(seq 200); do [ "$(oomctl list | grep -c '^/lowp/c ')" -ge 1 ] &&
  oomctl list --json | grep '"cgroup":"/lowp/c"' | grep -q '"low"' && break; sleep 0.05; done
hog /lowp/c 256
wait $watcher
wait $plain
lows=$(sum /tmp/low.out /lowp/c low)
kernel=$(counter /lowp/c low)
plain_lows=$(grep -c '"kind":"low"' /tmp/plain.out)
if [ "$kernel" -ge 1 ] && [ "$lows" = "$kernel" ] && [ "$plain_lows" = 0 ] &&
   [ "$(sum /tmp/low.out /lowp/c oom-kill)" = 1 ]; then
  pass events-low
else
  fail events-low "low: signalled $lows, kernel $kernel, to the watcher that did not ask $plain_lows"
fi

echo "---- oomwatchd log"
cat /tmp/oomwatchd.log
echo "OOMWATCH-DONE failures=$failures"
poweroff -f
