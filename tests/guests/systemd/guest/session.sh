#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A real user session: user@1000.service (linger) for the test user, python-dbusmock's
# notification server and oomwatch-notify as user services on the user's own session bus, a
# hog in an app scope started through the user's manager; the notification must name it, also
# after oomwatchd was killed and restarted.
. /usr/lib/oomwatch-guest/lib.sh
uid=1000
export XDG_RUNTIME_DIR=/run/user/$uid
as_user() {
  setpriv --reuid=$uid --regid=$uid --init-groups \
    env HOME=/home/tester USER=tester XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR \
    DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus "$@"
}
mocklog=/home/tester/notifications.log
log=/tmp/session.log
oomctl status > /dev/null 2>&1  # activates oomwatchd if it is not running

loginctl enable-linger tester
user_up() { [ "$(systemctl is-active user@$uid.service)" = active ] && [ -S "$XDG_RUNTIME_DIR/bus" ]; }
if wait_for 60 user_up; then
  ok session-user-manager-lingering
else
  fail session-user-manager-lingering "user@$uid.service: $(systemctl is-active user@$uid.service)"
  exit 0
fi

as_user systemd-run --user --quiet --unit=mock-notifications \
  python3 -m dbusmock --template notification_daemon -l "$mocklog"
mock_up() { as_user busctl --user status org.freedesktop.Notifications > /dev/null 2>&1; }
# Not named oomwatch-notify: the installed user unit has that name.
as_user systemd-run --user --quiet --unit=notifier-under-test /usr/bin/oomwatch-notify --coalesce 0
slice=/user.slice/user-$uid.slice
notify_watches() { oomctl list --json | grep -q "\"cgroup\":\"$slice\""; }
if wait_for 30 mock_up && wait_for 30 notify_watches; then
  ok session-notifier-watching
else
  fail session-notifier-watching "mock: $(mock_up && echo up || echo down), watches: $(oomctl list)"
  as_user journalctl --user --no-pager -n 20 > "$log" 2>&1; show "$log"
fi

# hog_in_app_scope N: a hog in app-oomwatch-hog-N.scope under the user's app.slice; its pid
hog_in_app_scope() {
  as_user systemd-run --user --scope --quiet --unit="app-oomwatch-hog-$1" \
    -p MemoryMax=32M -p MemorySwapMax=0 "$G/hog.sh" 256 2>&1 | awk '$1 == "ready" { print $2 }'
}
# notified PID: the mock server got a Notify naming the killed hog in its app scope
notified() {
  grep Notify "$mocklog" 2>/dev/null | grep -q "app-oomwatch-hog-$2.scope: oom-hog (pid $1)"
}
victim=$(hog_in_app_scope 1)
info "hog $victim in $(ls -d $CG$slice/user@$uid.service/app.slice 2>/dev/null)/app-oomwatch-hog-1.scope"
if [ -n "$victim" ] && wait_for 30 notified "$victim" 1; then
  ok session-notification-names-the-kill
else
  fail session-notification-names-the-kill "no notification for pid '$victim'"
  show "$mocklog"
  as_user journalctl --user --no-pager -n 20 > "$log" 2>&1; show "$log"
fi

# oomwatchd dies and comes back (Restart=): the notifier watches again by itself.
systemctl kill -s KILL oomwatchd.service
back() { [ "$(systemctl show -P SubState oomwatchd.service)" = running ] && notify_watches; }
wait_for 30 back
victim=$(hog_in_app_scope 2)
if [ -n "$victim" ] && wait_for 30 notified "$victim" 2; then
  ok session-notifier-after-restart
else
  fail session-notifier-after-restart "no notification for pid '$victim' after the restart"
  show "$mocklog"
fi
info "notifications: $(grep -c Notify "$mocklog" 2>/dev/null)"
