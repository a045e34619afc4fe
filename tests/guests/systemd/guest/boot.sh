#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The platform itself: systemd as PID 1 on pure cgroup v2 with the memory controller, and the
# real system bus run by the implementation this boot asked for.
. /usr/lib/oomwatch-guest/lib.sh
want=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^oomwatch.bus=//p')
check boot-systemd-pid1 "PID 1 is $(cat /proc/1/comm)" [ "$(cat /proc/1/comm)" = systemd ]
if [ "$HIERARCHY" = 2 ]; then
  check boot-pure-cgroup-v2 "$(stat -fc %T $CG), $(grep -c cgroup /proc/mounts) cgroup mounts" \
    sh -c "[ \"\$(stat -fc %T $CG)\" = cgroup2fs ] && ! grep -q ' cgroup ' /proc/mounts &&
           grep -qw memory $CG/cgroup.controllers"
else
  check boot-cgroup-v1-memory "no v1 memory mount at $MEMCG" \
    sh -c "grep -q ' $MEMCG cgroup .*memory' /proc/mounts"
fi
bus=$(ps -o comm= -p "$(systemctl show -P MainPID dbus.service)")
case ${want:-daemon} in
  daemon) check "boot-system-bus-dbus-daemon" "bus is $bus" [ "$bus" = dbus-daemon ] ;;
  broker) check "boot-system-bus-dbus-broker" "bus is $bus" [ "${bus#dbus-broker}" != "$bus" ] ;;
esac
