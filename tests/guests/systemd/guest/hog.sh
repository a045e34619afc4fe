#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# hog.sh MIB: oom-hog in the memory cgroup this process was started in (systemd-run put it
# there): the v1 memory hierarchy's when there is one, else the unified one's.
v1=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}memory\(,[^:]*\)\{0,1\}://p' /proc/self/cgroup)
if [ -n "$v1" ]; then
  dir=/sys/fs/cgroup/memory$v1
else
  dir=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)
fi
exec /usr/lib/oomwatch-guest/oom-hog "$dir" "$1"
