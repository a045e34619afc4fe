/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sub-commands, one function each. */
#pragma once

int oomctl_watch (int argc, char **argv);
int oomctl_monitor (int argc, char **argv);
int oomctl_unwatch (int argc, char **argv);
int oomctl_list (int argc, char **argv);
int oomctl_status (int argc, char **argv);
int oomctl_history (int argc, char **argv);
int oomctl_metrics (int argc, char **argv);
int oomctl_dump (int argc, char **argv);
