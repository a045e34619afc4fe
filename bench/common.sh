# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by bench/run and bench/compare (as root, from the top of the source tree): the built
# programs, the daemon's runtime directory on a tmpfs, the OOM lock and the quiet console.
# The console is quiet for the run: at the default console loglevel the kernel prints each OOM
# report to the serial console (~3 ms here), which would be most of every latency figure. The
# level is restored on exit, also on failure or interrupt.

export OOMWATCHD=$PWD/build/daemon/oomwatchd OOMCTL=$PWD/build/client/oomctl \
  OOM_HOG=$PWD/build/tests/lib/oom-hog BUS_CONFIG=$PWD/build/tests/lib/system-bus.conf \
  BENCH_RELAY=$PWD/build/bench/bench-relay

# The daemon's runtime directory on a tmpfs, as /run is under systemd (its counters and
# history are written there on every event; on a disk each write would also be an fsync).
runtime_base=$(mktemp -d /dev/shm/oomwatch-bench-XXXXXX)
export OOMWATCH_TEST_RUNTIME_BASE=$runtime_base
echo "daemon runtime directory on tmpfs: $runtime_base"

# Thousands of real OOMs: never at the same time as another helper's OOM tests.
exec 9> /tmp/oomwatch-oom.lock
flock -n 9 || { echo "waiting for /tmp/oomwatch-oom.lock ..."; flock 9; }

printk=$(cat /proc/sys/kernel/printk)
restore_console() {
  rm -rf "$runtime_base"
  echo "$printk" > /proc/sys/kernel/printk
  echo "console loglevel restored: $(tr '\t' ' ' < /proc/sys/kernel/printk)"
}
trap restore_console EXIT
trap 'exit 130' INT TERM

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "console loglevel: was $(echo "$printk" | tr '\t' ' '); set to 1 for the run (OOM reports stay in the kernel log, off the serial console)"
echo 1 > /proc/sys/kernel/printk
