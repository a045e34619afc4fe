#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Features under the installed unit, against the daemon systemd started on the system bus:
# memory pressure on v2, the metrics read by Debian's node exporter running as its own user,
# and crash-only restarts (killed 10 times while OOMs happen, nothing lost).
. /usr/lib/oomwatch-guest/lib.sh
unit=oomwatchd.service
mainpid() { systemctl show -P MainPID "$unit"; }
state() { systemctl show -P ActiveState,SubState "$unit" | paste -sd/; }
conf=/etc/oomwatch/oomwatch.conf
systemctl start "$unit"
# fail_showing NAME WHY FILE: a failure, with FILE and the daemon's last journal lines
fail_showing() {
  fail "$1" "$2"
  show "$3"
  journalctl -u "$unit" --no-pager -n 20 > /tmp/unit.log
  show /tmp/unit.log
}
# kill_in_system_slice NAME: one real OOM kill of a hog in a service of its own
kill_in_system_slice() {
  systemd-run --unit="$1" -p MemoryMax=32M -p MemorySwapMax=0 --wait --quiet "$G/hog.sh" 256 \
    > /dev/null 2>&1
}

# 1. Memory pressure on v2: the unit lets the daemon arm PSI triggers (2 s windows, without
#    CAP_SYS_RESOURCE) and a hog throttled at MemoryHigh is reported.
if [ "$HIERARCHY" = 2 ]; then
  systemd-run --quiet --slice=oompressure.slice --unit=oompressure-idle sleep 1000
  wait_for 30 test -d "$CG/oompressure.slice"
  oomctl watch --json --pressure low /oompressure.slice > /tmp/pressure.json 2>&1 &
  watcher=$!
  armed() { oomctl list --json | grep '"cgroup":"/oompressure.slice"' | grep -q '"pressure":"low"'; }
  if wait_for 30 armed; then
    start=$(date +%s)
    systemd-run --quiet --slice=oompressure.slice --unit=oompressure-hog -p MemoryHigh=40M \
      -p MemoryMax=200M -p MemorySwapMax=0 "$G/hog.sh" 600
    pressured() { grep -q '"signal":"MemoryPressure","cgroup":"/oompressure.slice"' /tmp/pressure.json; }
    if wait_for 120 pressured; then
      ok unit-pressure-v2
      info "pressure after $(($(date +%s) - start)) s: $(grep -m 1 MemoryPressure /tmp/pressure.json)"
    else
      fail unit-pressure-v2 "no MemoryPressure in 120 s; $(head -n 1 "$CG/oompressure.slice/memory.pressure")"
      show /tmp/pressure.json
    fi
  else
    fail_showing unit-pressure-v2 "the watch with --pressure low was not made" /tmp/pressure.json
  fi
  kill "$watcher" 2> /dev/null
  wait "$watcher" 2> /dev/null
  systemctl stop oompressure-hog.service oompressure-idle.service oompressure.slice 2> /dev/null
fi

# 2. Metrics: as the README says (MetricsFile= and a ReadWritePaths= drop-in), with Debian's
#    prometheus-node-exporter.service (User=prometheus, as its postinst makes it) reading
#    the textfile; its /metrics on localhost counts a real kill, then the next one.
scrape() {
  python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9100/metrics", timeout=10).read().decode())' \
    > /tmp/scrape.txt 2> /dev/null
}
kills_metric() {
  sed -n 's/^oomwatch_oom_kills_total{cgroup="\/system.slice"[^}]*} \([0-9]*\)$/\1/p' /tmp/scrape.txt
}
if [ ! -x /usr/bin/prometheus-node-exporter ] || [ ! -f /usr/lib/systemd/system/prometheus-node-exporter.service ]; then
  skip unit-metrics-node-exporter "prometheus-node-exporter is not in the guest (tools/install-deps)"
else
  useradd --system --home-dir /var/lib/prometheus --no-create-home --user-group prometheus 2> /dev/null
  install -d -o prometheus -g prometheus /var/lib/prometheus
  install -d /var/lib/prometheus/node-exporter
  mkdir -p "/etc/systemd/system/$unit.d"
  printf '[Service]\nReadWritePaths=/var/lib/prometheus/node-exporter\n' > "/etc/systemd/system/$unit.d/metrics.conf"
  cp "$conf" /tmp/oomwatch.conf.orig
  sed -i 's|^#MetricsFile=|MetricsFile=|; s|^#Watch=/system.slice$|Watch=/system.slice|' "$conf"
  systemctl daemon-reload
  systemctl restart "$unit"
  systemctl start prometheus-node-exporter.service
  kill_in_system_slice oomwatch-hog-metrics1
  first() { scrape && [ -n "$(kills_metric)" ] && [ "$(kills_metric)" -ge 1 ]; }
  if wait_for 30 first; then
    v1=$(kills_metric)
    kill_in_system_slice oomwatch-hog-metrics2
    next() { scrape && [ "$(kills_metric)" = $((v1 + 1)) ]; }
    check unit-metrics-node-exporter "after another kill $(kills_metric), not $((v1 + 1))" wait_for 30 next
  else
    fail unit-metrics-node-exporter "no oomwatch_oom_kills_total for /system.slice in the scrape"
    grep -E '^(oomwatch|node_textfile)' /tmp/scrape.txt > /tmp/ours.txt; show /tmp/ours.txt
  fi
  prom=/var/lib/prometheus/node-exporter/oomwatch.prom
  info "node exporter as $(ps -o user= -p "$(systemctl show -P MainPID prometheus-node-exporter)");" \
    "$(stat -c '%A %U' "$prom" 2>&1); $(grep -E '^(oomwatch_oom_kills_total|node_textfile_scrape_error)' /tmp/scrape.txt | paste -sd' ')"
  check unit-metrics-scrape-clean "the exporter could not read $prom" grep -qx 'node_textfile_scrape_error 0' /tmp/scrape.txt
  systemctl stop prometheus-node-exporter.service
fi

# 3. Crash-only: SIGKILLed 10 times, each time as soon as systemd has started it again (within
#    its start-up, or serving), while hogs are OOM-killed one after the other: it is back at
#    the end without hitting a start limit (systemd's default, 5 starts in 10 s, would be),
#    and a client that watched throughout (oomctl watch: it watches again and catches up), as
#    well as History(), got every kill.
watch_bg /tmp/crash.json /system.slice
# (An app's kill first: its scope name gives the app's ID.)
systemd-run --scope --quiet --unit=app-gnome-org.example.Hog-7 -p MemoryMax=32M \
  -p MemorySwapMax=0 "$G/hog.sh" 256 > /dev/null 2>&1
app() { grep '"kind":"oom-kill"' /tmp/crash.json | grep -q '"app-id":"org.example.Hog"'; }
check unit-app-id "no oom-kill with the app's ID" wait_for 20 app
seen=$(sum_events /tmp/crash.json /system.slice oom-kill)
last_seq=$(oomctl history --json | sed -n 's/.*"seq":\([0-9]*\).*/\1/p' | tail -n 1)
before=$(memory_events /system.slice oom_kill)
restarts=$(systemctl show -P NRestarts "$unit")
(for i in $(seq 20); do kill_in_system_slice "oomwatch-crash-$i"; done) &
hogs=$!
start=$(date +%s)
killed=0 pid=
for i in $(seq 10); do
  started() { [ "$(mainpid)" != 0 ] && [ "$(mainpid)" != "$pid" ]; }
  wait_for 30 started || break
  pid=$(mainpid)
  kill -KILL "$pid" && killed=$((killed + 1))
done
took=$(($(date +%s) - start))
wait "$hogs"
back() { [ "$(state)" = active/running ]; }
wait_for 60 back
kills=$(($(memory_events /system.slice oom_kill) - before))
all_seen() { [ "$(($(sum_events /tmp/crash.json /system.slice oom-kill) - seen))" -ge "$kills" ]; }
wait_for 60 all_seen
sleep 1 # a duplicate would show in the sum below
got=$(($(sum_events /tmp/crash.json /system.slice oom-kill) - seen))
nrestarts=$(($(systemctl show -P NRestarts "$unit") - restarts))
oomctl history --json --since "${last_seq:-0}" > /tmp/crash-history.json 2>&1
history=$(sum_events /tmp/crash-history.json /system.slice oom-kill)
info "$killed SIGKILLs in $took s: $(state), $nrestarts restarts; the kernel killed $kills, the" \
  "watcher got $got ($(grep '"kind":"oom-kill"' /tmp/crash.json | grep -c '"while-down":true') while-down), History() $history"
# Under TCG a restart can take seconds: whether 10 of them fit in the start limit is also
# checked from the unit's settings (10 restarts and the first start).
burst=$(systemctl show -P StartLimitBurst "$unit") interval=$(systemctl show -P StartLimitIntervalUSec "$unit")
info "start limit: $burst starts in $interval"
crash_only() {
  [ "$(state)" = active/running ] && [ "$killed" = 10 ] && [ "$nrestarts" -ge 10 ] &&
    [ "$burst" -gt 10 ] && [ "$interval" = 1min ] &&
    [ "$kills" = 20 ] && [ "$got" = "$kills" ] && [ "$history" = "$kills" ]
}
if crash_only; then ok unit-crash-only; else fail_showing unit-crash-only "see the line above" /tmp/crash.json; fi
kill "$WATCHER" 2> /dev/null
wait "$WATCHER" 2> /dev/null
if [ -f /tmp/oomwatch.conf.orig ]; then
  cp /tmp/oomwatch.conf.orig "$conf"
  rm -f "/etc/systemd/system/$unit.d/metrics.conf"
  systemctl daemon-reload
  systemctl restart "$unit"
fi
