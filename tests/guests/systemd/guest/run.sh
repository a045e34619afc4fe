#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The systemd guest's runner (oomwatch-guest.service): runs each task named by
# oomwatch.tasks= on the kernel command line, then OOMWATCH-DONE.
. /usr/lib/oomwatch-guest/lib.sh
echo # the serial console may still be inside a firmware line
tasks=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^oomwatch.tasks=//p' | tr ',' ' ')
info "runner started $(cut -d" " -f1 /proc/uptime) s after the kernel"
info "kernel $(uname -r), systemd $(systemctl --version | awk 'NR==1 {print $2}')," \
  "bus $(ps -o comm= -p "$(systemctl show -P MainPID dbus.service)")"

for task in $tasks; do
  start=$(date +%s)
  "$G/$task.sh"
  info "task $task took $(($(date +%s) - start)) s"
done
echo OOMWATCH-DONE
