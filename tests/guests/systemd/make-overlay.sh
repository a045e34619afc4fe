#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make-overlay.sh SOURCE_ROOT WORK_DIR: the project as the README installs it, for the systemd
# guest. Configures WORK_DIR/build with --prefix=/usr --sysconfdir=/etc, builds it, runs
# `meson install` into a DESTDIR (the files that land on top of the cached Debian root), adds
# the test programs and the guest's runner, and packs that as WORK_DIR/overlay.cpio, plus
# WORK_DIR/broker.cpio (the two links that make dbus-broker the bus, as `systemctl enable
# dbus-broker` does). Enabling oomwatchd is left to the guest, as the README says.
set -eu
src=$1 work=$2
here=$src/tests/guests/systemd
build=$work/build
mkdir -p "$work"
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$src" --prefix=/usr --sysconfdir=/etc > "$work/setup.log" 2>&1 ||
    { cat "$work/setup.log"; exit 1; }
fi
meson compile -C "$build" > "$work/compile.log" 2>&1 || { cat "$work/compile.log"; exit 1; }

dest=$work/overlay
rm -rf "$dest"
meson install -C "$build" --no-rebuild --quiet --destdir "$dest" > /dev/null

lib=$dest/usr/lib/oomwatch-guest
install -d "$lib" "$dest/etc/systemd/system/multi-user.target.wants"
# The test programs, by their folder under tests/, flat in $lib (guest/suite.sh runs them by name).
for t in integration/test-service integration/test-service-api integration/test-service-victims \
         integration/test-oomctl integration/test-oomctl-conventions integration/test-config \
         integration/test-app-events integration/test-containers integration/test-continuity \
         integration/test-notify integration/test-hardening integration/test-hooks \
         adversary/test-adversary adversary/adversary-client adversary/adversary-flood \
         lib/oom-hog lib/pressure-hog; do
  install -m 0755 "$build/tests/$t" "$lib/${t##*/}"
done
install -m 0755 "$here"/guest/*.sh "$here"/guest/*.py "$lib/"
sed 's|@POLICY@|/usr/share/dbus-1/system.d/org.oomwatch.OomWatch1.conf|' \
  "$src/tests/lib/system-bus.conf.in" > "$lib/system-bus.conf"
sed 's|@POLICY@|/usr/share/dbus-1/system.d/org.oomwatch.OomWatch1.conf|' \
  "$src/tests/adversary/adversary-bus.conf.in" > "$lib/adversary-bus.conf"
install -m 0644 "$here/guest/oomwatch-guest.service" "$dest/etc/systemd/system/"
ln -sf ../oomwatch-guest.service "$dest/etc/systemd/system/multi-user.target.wants/"
(cd "$dest" && find . -mindepth 1 | cpio -o -H newc --quiet) > "$work/overlay.cpio"

# The metrics cases run the host's Prometheus tools (Debian's, same release as the guest;
# tools/install-deps), the node exporter with Debian's unit: appended only for the boots
# that use them, they are 60 MB.
metrics=$work/metrics
rm -rf "$metrics" "$work/metrics.cpio"
if command -v promtool > /dev/null && command -v prometheus-node-exporter > /dev/null; then
  install -d "$metrics/usr/bin" "$metrics/usr/lib/systemd/system" "$metrics/etc/default"
  install -m 0755 "$(command -v promtool)" "$(command -v prometheus-node-exporter)" "$metrics/usr/bin/"
  # Into /usr/lib: the guest's /lib is a link, and the kernel's cpio unpacking replaces a
  # link by a directory of the same name.
  [ -f /lib/systemd/system/prometheus-node-exporter.service ] && install -m 0644 \
    /lib/systemd/system/prometheus-node-exporter.service "$metrics/usr/lib/systemd/system/"
  [ -f /etc/default/prometheus-node-exporter ] && install -m 0644 \
    /etc/default/prometheus-node-exporter "$metrics/etc/default/"
  (cd "$metrics" && find . -mindepth 1 | cpio -o -H newc --quiet) > "$work/metrics.cpio"
fi

broker=$work/broker
rm -rf "$broker"
install -d "$broker/etc/systemd/system" "$broker/etc/systemd/user"
ln -s /usr/lib/systemd/system/dbus-broker.service "$broker/etc/systemd/system/dbus.service"
ln -s /usr/lib/systemd/user/dbus-broker.service "$broker/etc/systemd/user/dbus.service"
(cd "$broker" && find . -mindepth 1 | cpio -o -H newc --quiet) > "$work/broker.cpio"
