#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian packages (built on the host by make-package.sh): with systemd-oomd installed
# first, install, a real named OOM, reinstall, upgrade to version+1, remove, purge. systemd's
# oomctl must answer `oomctl dump` at every step (as oomctl.systemd while ours is installed),
# and purge must leave nothing behind.
. /usr/lib/oomwatch-guest/lib.sh
P=$G/package
log=/tmp/package.log
if [ ! -s "$P/oomwatch-1.deb" ]; then
  skip package "no packages in the guest (make-package.sh)"
  exit 0
fi
# The guest root keeps no man pages (mmdebstrap's path-exclude): the man page's diversion is
# part of what is tested.
rm -f /etc/dpkg/dpkg.cfg.d/99mmdebstrap
# The overlay's `meson install` goes first: the packages must bring everything themselves.
xargs rm -f < "$P/meson-files.txt"
systemctl daemon-reload

# dump_works NAME: systemd's oomctl (by NAME) prints systemd-oomd's state
dump_works() { "$1" dump > "$log.dump" 2>&1 && grep -q 'Swap Used Limit' "$log.dump"; }
diversions() { dpkg-divert --list 'oomwatch' | sort; }
step() { # step NAME: systemd's oomctl answers dump, under the name it has at this step
  local name=/usr/bin/oomctl
  [ -n "$(diversions)" ] && name=/usr/bin/oomctl.systemd
  if dump_works "$name"; then
    ok "package-oomd-dump-$1"
  else
    fail "package-oomd-dump-$1" "$name dump failed"
    show "$log.dump"
    systemctl status --no-pager -n 10 systemd-oomd.service > "$log.dump" 2>&1; show "$log.dump"
  fi
}

if [ ! -s "$P/systemd-oomd.deb" ] || ! dpkg -i "$P/systemd-oomd.deb" > "$log" 2>&1; then
  fail package-systemd-oomd "systemd-oomd does not install (its version must match the guest root's systemd $(dpkg-query -W -f='${Version}' systemd))"
  show "$log"
  exit 0
fi
# The bus reads the new policy of org.freedesktop.oom1 before systemd-oomd takes the name.
systemctl reload dbus.service
systemctl restart systemd-oomd.service
wait_for 30 systemctl is-active --quiet systemd-oomd.service
info "systemd-oomd: $(systemctl is-active systemd-oomd.service), $(busctl --system status org.freedesktop.oom1 2>&1 | grep -m1 -E '^PID|Failed')"
step before

# 1. Install: the daemon enabled and running, the config a conffile, systemd's three files
#    moved aside and still there.
if dpkg -i "$P/oomwatch-1.deb" "$P/oomwatch-notify-1.deb" > "$log" 2>&1; then ok package-install; else fail package-install "dpkg -i failed"; show "$log"; fi
info "diversions: $(diversions | paste -sd';')"
check package-diverted "not the three diversions" [ "$(diversions | grep -c 'to /usr/.*oomctl.systemd.* by oomwatch')" = 3 ]
check package-systemd-files-kept "systemd's oomctl files are not under their new names" \
  test -x /usr/bin/oomctl.systemd -a -f /usr/share/man/man1/oomctl.systemd.1.gz -a -f /usr/share/bash-completion/completions/oomctl.systemd
check package-ours-installed "/usr/bin/oomctl is not ours: $(oomctl --version 2>&1 | head -1)" sh -c "oomctl --version | grep -qF '$(dpkg-deb -f "$P/oomwatch-1.deb" Version)'"
check package-enabled-running "oomwatchd: $(systemctl is-enabled oomwatchd.service)/$(systemctl is-active oomwatchd.service)" \
  sh -c '[ "$(systemctl is-enabled oomwatchd.service)/$(systemctl is-active oomwatchd.service)" = enabled/active ]'
check package-conffile "oomwatch.conf is not a conffile" sh -c "dpkg-query -W -f='\${Conffiles}' oomwatch | grep -q /etc/oomwatch/oomwatch.conf"
check package-notify-files "the notifier's desktop and unit files are missing" \
  test -x /usr/bin/oomwatch-notify -a -f /etc/xdg/autostart/oomwatch-notify.desktop
step installed

# 2. A real OOM, named, through the packaged daemon.
out=/tmp/package-watch.json
systemd-run --quiet --slice=pkgtest.slice --unit=pkgtest-placeholder sleep 1000
wait_for 30 test -d $CG/pkgtest.slice
watch_bg "$out" --recursive /pkgtest.slice
systemd-run --quiet --scope --slice=pkgtest.slice --unit=pkgtest-hog -p MemoryMax=32M -p MemorySwapMax=0 \
  bash -c ". $G/lib.sh; hog_here 200" > /dev/null 2>&1
named() { grep '"kind":"oom-kill"' "$out" | grep -q '"comm":"oom-hog"'; }
if wait_for 60 named; then ok package-named-oom; else fail package-named-oom "no oom-kill naming oom-hog"; show "$out"; fi
kill "$WATCHER" 2> /dev/null
systemctl stop pkgtest-placeholder.service 2> /dev/null

# 2b. The packaged user unit in the test user's session, in German: the Notify call, as
#     dbus-monitor sees it, has the German summary, the actions and the notifier's own
#     desktop entry, which the package installed in applications/.
uid=1000
as_user() {
  setpriv --reuid=$uid --regid=$uid --init-groups env HOME=/home/tester XDG_RUNTIME_DIR=/run/user/$uid \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus "$@"
}
monitor=/tmp/package-monitor.log
loginctl enable-linger tester
user_up() { systemctl is-active --quiet user@$uid.service && [ -S /run/user/$uid/bus ]; }
mock_up() { as_user busctl --user status org.freedesktop.Notifications > /dev/null 2>&1; }
notify_up() { as_user systemctl --user is-active --quiet oomwatch-notify.service && oomctl list | grep -q "/user.slice/user-$uid.slice"; }
if wait_for 60 user_up; then
  as_user systemd-run --user --quiet --unit=mock-notifications python3 -m dbusmock --template notification_daemon
  wait_for 30 mock_up
  as_user dbus-monitor --session "interface='org.freedesktop.Notifications',member='Notify'" > "$monitor" 2>&1 &
  monitor_pid=$!
  as_user systemctl --user set-environment LANG=C.UTF-8 LANGUAGE=de
  as_user systemctl --user start oomwatch-notify.service
  wait_for 30 notify_up
  as_user systemd-run --user --scope --quiet --unit=app-oomwatch-hog-9 -p MemoryMax=32M -p MemorySwapMax=0 \
    "$G/hog.sh" 256 > /dev/null 2>&1
  seen() { grep -q 'wurde beendet' "$monitor" && grep -q '"Details anzeigen"' "$monitor"; }
  if wait_for 60 seen && grep -A1 '"desktop-entry"' "$monitor" | grep -q 'string "oomwatch-notify"' &&
     [ -f /usr/share/applications/oomwatch-notify.desktop ]; then
    ok package-session-notification-german
  else
    fail package-session-notification-german "no German Notify with actions and desktop-entry seen (notifier $(as_user systemctl --user is-active oomwatch-notify.service))"
    show "$monitor"
  fi
  info "Notify: $(grep -A4 'member=Notify' "$monitor" | grep -m1 'wurde')"
  kill "$monitor_pid" 2> /dev/null
  as_user systemctl --user stop oomwatch-notify.service mock-notifications.service
else
  fail package-session-notification-german "user@$uid.service: $(systemctl is-active user@$uid.service)"
fi
loginctl disable-linger tester
systemctl stop user@$uid.service

# 3. Upgrade over itself, then to version+1: still one set of diversions, running again.
upgraded() { # upgraded NAME VERSION
  if [ "$(dpkg-query -W -f='${Version}' oomwatch)" = "$2" ] && [ "$(diversions | wc -l)" = 3 ] &&
     systemctl is-active --quiet oomwatchd.service && oomctl status > /dev/null 2>&1; then
    ok "package-$1"
  else
    fail "package-$1" "version $(dpkg-query -W -f='${Version}' oomwatch), $(diversions | wc -l) diversions, oomwatchd $(systemctl is-active oomwatchd.service)"
    show "$log"
  fi
}
v1=$(dpkg-deb -f "$P/oomwatch-1.deb" Version) v2=$(dpkg-deb -f "$P/oomwatch-2.deb" Version)
dpkg -i "$P/oomwatch-1.deb" "$P/oomwatch-notify-1.deb" > "$log" 2>&1
upgraded reinstall "$v1"
step reinstalled
dpkg -i "$P/oomwatch-2.deb" "$P/oomwatch-notify-2.deb" > "$log" 2>&1
upgraded upgrade "$v2"
step upgraded

# 4. Remove: systemd's files back under their own names; the config stays until purge.
if dpkg -r oomwatch-notify oomwatch > "$log" 2>&1; then ok package-remove; else fail package-remove "dpkg -r failed"; show "$log"; fi
check package-undiverted "diversions left: $(diversions | paste -sd';')" test -z "$(diversions)"
check package-systemd-oomctl-back "/usr/bin/oomctl is not systemd-oomd's" sh -c \
  "dpkg -S /usr/bin/oomctl | grep -q '^systemd-oomd:' && test -f /usr/share/man/man1/oomctl.1.gz -a -f /usr/share/bash-completion/completions/oomctl -a ! -e /usr/bin/oomctl.systemd"
check package-stopped "oomwatchd still $(systemctl is-active oomwatchd.service)" sh -c '! systemctl is-active --quiet oomwatchd.service'
step removed

# 5. Purge: nothing left, not even the config, the runtime directory or systemd's enable state.
if dpkg -P oomwatch-notify oomwatch > "$log" 2>&1; then ok package-purge; else fail package-purge "dpkg -P failed"; show "$log"; fi
left=$( (find / -xdev \( -path /proc -o -path /sys -o -path /usr/lib/oomwatch-guest -o -path /home \) -prune -o \
  \( -iname '*oomwatch*' ! -name '*oomwatch-guest*' -print \) ; \
  find /run -path /run/user -prune -o -name '*oomwatch*' ! -name '*oomwatch-guest*' -print) 2> /dev/null | sort -u)
check package-nothing-left "left behind: $(echo $left)" test -z "$left"
step purged
