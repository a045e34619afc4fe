# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the guest's task scripts: result lines for the host (run-guest.sh turns them into
# TAP) and waiting on conditions.
G=/usr/lib/oomwatch-guest
CG=/sys/fs/cgroup
# oomwatch.cgroup=v1 on the kernel command line: systemd on the legacy hierarchy (the unit's
# hardening must still let the daemon register on v1); else pure v2.
if grep -qw oomwatch.cgroup=v1 /proc/cmdline; then HIERARCHY=1 MEMCG=$CG/memory; else HIERARCHY=2 MEMCG=$CG; fi
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export SYSTEMD_PAGER= SYSTEMD_COLORS=0

ok() { echo "OOMWATCH-OK $1"; }
fail() { echo "OOMWATCH-FAIL $1: $2"; }
skip() { echo "OOMWATCH-SKIP $1: $2"; }
todo() { echo "OOMWATCH-TODO $1: $2"; }
info() { echo "OOMWATCH-INFO $*"; }
# check NAME WHY COMMAND…: ok when COMMAND succeeds, else fail with WHY
check() {
  local name=$1 why=$2
  shift 2
  if "$@"; then ok "$name"; else fail "$name" "$why"; fi
}
# Lines of a file as INFO (for failures)
show() { sed 's/^/OOMWATCH-INFO   /' "$@" 2>/dev/null | tail -n "${SHOW_LINES:-40}"; }

# wait_for SECONDS COMMAND…: until COMMAND succeeds (polling every 0.1 s); its status
wait_for() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@"; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}

# The sum of "count" of the OomEvent JSON lines in FILE for CGROUP and KIND
sum_events() {
  grep "\"signal\":\"OomEvent\",\"cgroup\":\"$2\",\"kind\":\"$3\"" "$1" |
    sed 's/.*"count":\([0-9]*\).*/\1/' | awk '{ s += $1 } END { print s + 0 }'
}

# memory_events CGROUP KEY: the kernel's counter
memory_events() { awk -v k="$2" '$1 == k { print $2 }' "$CG$1/memory.events"; }

# oomctl watch --json in the background as WATCHER, once the daemon holds the watch
# watch_bg OUT ARGS… (the last argument is the cgroup, as the daemon lists it)
watch_bg() {
  local out=$1
  shift
  oomctl watch --json "$@" > "$out" 2>&1 &
  WATCHER=$!
  local cgroup=${*: -1}
  wait_for 30 sh -c "oomctl list --json | grep -q '\"cgroup\":\"$cgroup\"'"
}

# A hog in the cgroup it was started in (systemd-run puts it there): MIB MiB
hog_here() { exec "$G/oom-hog" "$CG$(cut -d: -f3 /proc/self/cgroup)" "$1"; }
