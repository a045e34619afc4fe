#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# check-man.sh PAGE: groff's warnings about a generated man page, as errors.
set -eu
out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$1" 2>&1)
if [ -n "$out" ]; then
  printf '%s\n' "$out"
  exit 1
fi
echo "$1: clean"
