#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make-package.sh SOURCE_ROOT WORK_DIR: the Debian packages for the guest's package task. Builds
# the .debs from a copy of the tree (dpkg-buildpackage writes into the parent directory) with
# DEB_BUILD_OPTIONS=nocheck, checks them with lintian, repacks them as version+1 (an upgrade
# without a second build), fetches systemd-oomd (whose oomctl ours diverts) and packs all of it
# with the list of files the meson-installed overlay put in the guest (the task removes those
# first) as WORK_DIR/package.cpio. Exits 77 when dpkg-buildpackage is missing.
set -eu
src=$1 work=$2
command -v dpkg-buildpackage > /dev/null || { echo "dpkg-buildpackage missing (tools/install-deps)"; exit 77; }
deb=$work/deb
rm -rf "$deb"
mkdir -p "$deb/src" "$deb/pack/usr/lib/oomwatch-guest/package"
if git -C "$src" rev-parse --git-dir > /dev/null 2>&1; then
  git -C "$src" ls-files -co --exclude-standard | grep -v '^build' | tar -C "$src" -cf - -T - | tar -C "$deb/src" -xf -
else
  tar -C "$src" --exclude='./build*' -cf - . | tar -C "$deb/src" -xf -
fi
start=$(date +%s)
(cd "$deb/src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) > "$deb/build.log" 2>&1 ||
  { tail -n 30 "$deb/build.log"; echo "dpkg-buildpackage failed (log $deb/build.log)"; exit 1; }
echo "dpkg-buildpackage: $(($(date +%s) - start)) s"
if command -v lintian > /dev/null; then
  lintian --fail-on warning "$deb"/*.changes > "$deb/lintian.log" 2>&1 ||
    { cat "$deb/lintian.log"; echo "lintian found problems"; exit 1; }
fi

out=$deb/pack/usr/lib/oomwatch-guest/package
version=$(dpkg-deb -f "$deb"/oomwatch_*_*.deb Version)
for p in oomwatch oomwatch-notify; do
  cp "$deb/${p}_${version}"_*.deb "$out/$p-1.deb"
  rm -rf "$deb/repack"
  dpkg-deb -R "$out/$p-1.deb" "$deb/repack"
  sed -i "s/^Version: .*/Version: $version+1/; s/(= $version)/(= $version+1)/" "$deb/repack/DEBIAN/control"
  dpkg-deb -b -Zxz -z1 "$deb/repack" "$out/$p-2.deb" > /dev/null
done
# systemd-oomd of the guest root's release (the root is bookworm as of its build, as is apt here).
cache=${OOMWATCH_DEB_CACHE:-/var/cache/oomwatch/debs}
mkdir -p "$cache"
(cd "$cache" && apt-get download -q systemd-oomd > /dev/null 2>&1) || echo "apt-get download systemd-oomd failed: using the cached one"
oomd=$(ls -t "$cache"/systemd-oomd_*.deb 2> /dev/null | head -1)
[ -n "$oomd" ] && cp "$oomd" "$out/systemd-oomd.deb"
# What `meson install` put in the guest: the task takes it away before installing the packages.
(cd "$work/overlay" && find . -mindepth 1 ! -type d | sed 's|^\.||' |
  grep -v -e '^/usr/lib/oomwatch-guest/' -e '/oomwatch-guest.service$') > "$out/meson-files.txt"
(cd "$deb/pack" && find . -mindepth 1 | cpio -o -H newc --quiet) > "$work/package.cpio"
