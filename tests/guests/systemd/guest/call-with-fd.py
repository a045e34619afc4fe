#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# call-with-fd.py: calls ListWatches on the system bus with one fd (stdin) attached, and prints
# the reply or the D-Bus error name. The bus policy (max_fds="0") must refuse it.
from gi.repository import Gio, GLib

bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
fds = Gio.UnixFDList.new()
fds.append(0)
try:
    bus.call_with_unix_fd_list_sync(
        "org.oomwatch.OomWatch1", "/org/oomwatch/OomWatch1", "org.oomwatch.OomWatch1.Manager",
        "ListWatches", None, None, Gio.DBusCallFlags.NONE, -1, fds, None)
    print("accepted")
except GLib.Error as error:
    print(Gio.DBusError.get_remote_error(error) or error.message)
