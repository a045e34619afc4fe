#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run-guest.sh BUS TASKS [v1]: boots the systemd guest once — Debian bookworm (tools/build-guest-root)
# with the project installed as the README says (make-overlay.sh), Debian's kernel, qemu with
# TCG (never KVM) — with BUS (daemon: dbus-daemon, broker: dbus-broker) as the system bus, runs
# the guest tasks TASKS (comma-separated: boot, deploy, session, unit, suite, fixes, package;
# see guest/) and
# prints their results as TAP, one test per check. With v1, systemd mounts the legacy cgroup
# hierarchy instead of pure v2. Exits 77 when something is missing.
# Environment: MESON_SOURCE_ROOT, MESON_BUILD_ROOT (meson test sets both).
set -u
bus=$1 tasks=$2 hierarchy=${3:-v2}
src=${MESON_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
work=${MESON_BUILD_ROOT:-$src/build}/systemd-guest
kernel=${OOMWATCH_KERNEL_CACHE:-/var/cache/oomwatch/guest-kernel}/vmlinux

skip() { echo "1..0 # SKIP $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (the guest root is built with mmdebstrap into /var/cache)"
command -v qemu-system-x86_64 > /dev/null || skip "qemu-system-x86_64 missing (tools/install-deps)"
command -v mmdebstrap > /dev/null || skip "mmdebstrap missing (tools/install-deps)"
[ -s "$kernel" ] || skip "no guest kernel at $kernel (tools/fetch-guest-kernel)"

mkdir -p "$work"
started=$(date +%s)
# One build of the root and of the overlay at a time (meson may run several boots).
exec 9> "$work/lock"
flock 9
base=$("$src/tools/build-guest-root") || { echo "Bail out! tools/build-guest-root failed"; exit 1; }
"$src/tests/guests/systemd/make-overlay.sh" "$src" "$work" || { echo "Bail out! make-overlay.sh failed"; exit 1; }
initrd=$work/initrd-$bus.cpio
parts=("$base" "$work/overlay.cpio")
[ "$bus" = broker ] && parts+=("$work/broker.cpio")
case ,$tasks, in *,suite,* | *,unit,*) [ -s "$work/metrics.cpio" ] && parts+=("$work/metrics.cpio") ;; esac
case ,$tasks, in *,package,*)
  "$src/tests/guests/systemd/make-package.sh" "$src" "$work" > "$work/package.log" 2>&1
  case $? in 0) parts+=("$work/package.cpio"); echo "# $(grep -h "^dpkg-buildpackage:" "$work/package.log")" ;; 77) skip "$(tail -1 "$work/package.log")" ;;
    *) echo "Bail out! make-package.sh failed:"; sed 's/^/# /' "$work/package.log"; exit 1 ;; esac ;;
esac
cat "${parts[@]}" > "$initrd"
flock -u 9
prepared=$(date +%s)

log=$work/serial-$bus-${tasks//,/-}-$hierarchy.log
cmdline="console=ttyS0 quiet loglevel=1 systemd.show_status=0 rdinit=/lib/systemd/systemd panic=-1 psi=1"
cmdline+=" oomwatch.bus=$bus oomwatch.tasks=$tasks"
[ "$hierarchy" = v1 ] && cmdline+=" systemd.unified_cgroup_hierarchy=0 oomwatch.cgroup=v1"
# e.g. OOMWATCH_GUEST_ARGS="oomwatch.only=watch-recursive oomwatch.repeat=10" (guest/suite.sh)
cmdline+=" ${OOMWATCH_GUEST_ARGS:-}"
timeout "${OOMWATCH_GUEST_TIMEOUT:-1500}" qemu-system-x86_64 -accel tcg -m 2048 -smp 1 \
  -kernel "$kernel" -initrd "$initrd" \
  -nodefaults -no-user-config -nographic -serial stdio -no-reboot \
  -append "$cmdline" \
  < /dev/null 2>&1 | tr -d '\r' > "$log"
rm -f "$initrd"
finished=$(date +%s)

# qemu's exit status says nothing about the guest: its result lines do.
n=0 failed=0
while IFS= read -r line; do
  case $line in
    OOMWATCH-OK\ *) n=$((n + 1)); echo "ok $n - ${line#OOMWATCH-OK }" ;;
    OOMWATCH-FAIL\ *) n=$((n + 1)) failed=1; echo "not ok $n - ${line#OOMWATCH-FAIL }" ;;
    OOMWATCH-SKIP\ *) n=$((n + 1)); r=${line#OOMWATCH-SKIP }; echo "ok $n - ${r%%: *} # SKIP ${r#*: }" ;;
    OOMWATCH-TODO\ *) n=$((n + 1)); r=${line#OOMWATCH-TODO }; echo "not ok $n - ${r%%: *} # TODO ${r#*: }" ;;
    OOMWATCH-XPASS\ *) n=$((n + 1)); r=${line#OOMWATCH-XPASS }; echo "ok $n - ${r%%: *} # TODO ${r#*: }" ;;
    OOMWATCH-INFO\ *) echo "# ${line#OOMWATCH-INFO }" ;;
  esac
done < "$log"
if ! grep -q '^OOMWATCH-DONE' "$log"; then
  n=$((n + 1)) failed=1
  echo "not ok $n - the guest finished its tasks (no OOMWATCH-DONE; serial log $log)"
  tail -n 40 "$log" | sed 's/^/# /'
fi
echo "# timing: root+overlay $((prepared - started)) s, boot+tasks $((finished - prepared)) s (bus $bus, tasks $tasks, cgroup $hierarchy)"
echo "# guest totals: $(grep -c '^OOMWATCH-OK' "$log") passed, $(grep -c '^OOMWATCH-FAIL' "$log") failed, $(grep -c '^OOMWATCH-SKIP' "$log") skipped, $(grep -c '^OOMWATCH-TODO' "$log") pending"
echo "1..$n"
exit "$failed"
