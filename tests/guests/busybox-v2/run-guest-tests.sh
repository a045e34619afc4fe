#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Host side of the cgroup v2 tests: builds an initramfs with the built oomwatchd, oomctl,
# dbus-daemon, a memory hog and their libraries, boots Debian's kernel in qemu (TCG, never
# KVM), and checks the result lines the guest prints. Exits 77 when something is missing.
set -u
: "${OOMWATCHD:?} ${OOMCTL:?} ${OOM_HOG:?} ${BUS_CONFIG_IN:?} ${POLICY:?}"
here=$(cd "$(dirname "$0")" && pwd)
kernel=${OOMWATCH_KERNEL_CACHE:-/var/cache/oomwatch/guest-kernel}/vmlinux

skip() { echo "SKIP: $*"; exit 77; }
command -v qemu-system-x86_64 > /dev/null || skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
command -v cpio > /dev/null || skip "cpio missing (apt-get install cpio)"
busybox=$(command -v busybox) || skip "busybox missing (apt-get install busybox-static)"
file -L "$busybox" 2>/dev/null | grep -q "statically linked" || ldd "$busybox" 2>&1 | grep -q "not a dynamic" ||
  skip "$busybox is not static (apt-get install busybox-static)"
[ -s "$kernel" ] || skip "no guest kernel at $kernel (run tools/fetch-guest-kernel)"
dbus_daemon=$(command -v dbus-daemon) || skip "dbus-daemon missing"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,usr/bin,etc/oomwatch,proc,sys,dev,tmp,run/dbus}

copy_with_libs() {
  install -D -m 0755 "$1" "$root$2"
  for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
    [ -e "$root$lib" ] || install -D -m 0755 "$lib" "$root$lib"
  done
}
cp "$busybox" "$root/bin/busybox"
copy_with_libs "$OOMWATCHD" /usr/bin/oomwatchd
copy_with_libs "$OOMCTL" /usr/bin/oomctl
copy_with_libs "$OOM_HOG" /usr/bin/oom-hog
copy_with_libs "$dbus_daemon" /usr/bin/dbus-daemon
install -m 0644 "$POLICY" "$root/etc/oomwatch/org.oomwatch.OomWatch1.conf"
sed 's|@POLICY@|/etc/oomwatch/org.oomwatch.OomWatch1.conf|' "$BUS_CONFIG_IN" > "$root/etc/oomwatch/system-bus.conf"
printf 'root:x:0:0:root:/:/bin/sh\nmessagebus:x:100:101::/:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nmessagebus:x:101:\n' > "$root/etc/group"
echo 0123456789abcdef0123456789abcdef > "$root/etc/machine-id"
install -m 0755 "$here/guest-init.sh" "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) > "$root.cpio"
trap 'rm -rf "$root" "$root.cpio"' EXIT

log=$(mktemp)
timeout 420 qemu-system-x86_64 -accel tcg -m 1024 -smp 1 \
  -kernel "$kernel" -initrd "$root.cpio" \
  -nodefaults -no-user-config -nographic -serial stdio -no-reboot \
  -append 'console=ttyS0 quiet panic=-1 psi=1' < /dev/null 2>&1 | tr -d '\r' | tee "$log"

# qemu's exit status says nothing about the guest: the markers do.
cases=$(grep -c '^OOMWATCH-CASE .* PASS' "$log")
if grep -q '^OOMWATCH-DONE failures=0' "$log" && [ "$cases" -eq 9 ]; then
  echo "v2 guest: all $cases scenarios passed"
  rm -f "$log"
  exit 0
fi
echo "v2 guest: FAILED ($cases of 9 scenarios passed)"
grep '^OOMWATCH-CASE' "$log"
rm -f "$log"
exit 1
