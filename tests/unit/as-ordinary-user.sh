#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# as-ordinary-user.sh UNIT-TEST...: runs each unit test program again as uid 65534 (the unit
# suite needs no privilege, and its fixtures must not take the runner's uid for root's).
# Skips when not root (the suite already runs as that user) or when 65534 cannot reach the build.
[ "$(id -u)" -eq 0 ] || { echo "not root: the suite itself runs as an ordinary user"; exit 77; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp TMPDIR=/tmp "$@"; }
as_nobody test -x "$(realpath "$1")" || { echo "uid 65534 cannot run $1 (a private build directory)"; exit 77; }
status=0
for t in "$@"; do
  t=$(realpath "$t")
  if out=$(cd /tmp && as_nobody "$t" 2>&1); then
    echo "ok $(basename "$t")"
  else
    echo "FAIL $(basename "$t") as uid 65534:"; echo "$out" | grep -E 'not ok|ERROR' | head -n 5
    status=1
  fi
done
exit $status
