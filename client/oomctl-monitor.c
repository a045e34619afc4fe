/* oomctl monitor: every signal of every watch (root only: the daemon's Monitor()). */
#include "oomctl-commands.h"
#include "oomctl-listener.h"

int
oomctl_monitor (int argc, char **argv)
{
  OomctlListenOptions options = { 0 };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (OomwatchManager) manager = NULL;
  g_autoptr (OomctlListener) listener = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  oomctl_listen_options_add (context, &options);
  g_option_context_set_summary (context, "Print every oomwatchd signal (root only).");
  status = oomctl_parse_options (context, &argc, &argv);
  if (status != OOMCTL_EXIT_OK)
    return status;
  if (argc > 1 || options.count < 0 || options.timeout < 0)
    {
      g_printerr ("oomctl: monitor takes options only\n");
      return OOMCTL_EXIT_USAGE;
    }
  manager = oomctl_manager_new (&error);
  if (manager == NULL)
    return oomctl_fail ("cannot reach oomwatchd", error);
  listener = oomctl_listener_new (manager, &options, FALSE, FALSE);
  /* Signals go only to the connections that watch, and to root's monitors. */
  if (!oomwatch_manager_call_monitor_sync (manager, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
    return oomctl_fail ("monitor", error);
  return oomctl_listener_run (listener);
}
