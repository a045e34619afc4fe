/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ow-test-oomctl.h"

#include <string.h>

void
ow_oomctl_run_clear (OwOomctlRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

GSubprocess *
ow_oomctl_start (const char *cwd, const char *const *setenv, const char *const *args)
{
  return ow_oomctl_start_program (g_getenv ("OOMCTL"), cwd, setenv, args);
}

GSubprocess *
ow_oomctl_start_program (const char *program, const char *cwd, const char *const *setenv,
                         const char *const *args)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_set_cwd (launcher, cwd);
  for (gsize i = 0; setenv != NULL && setenv[i] != NULL; i++)
    {
      const char *equals = strchr (setenv[i], '=');
      g_autofree char *name = g_strndup (setenv[i], equals != NULL ? (gsize) (equals - setenv[i])
                                                                    : strlen (setenv[i]));

      if (equals != NULL)
        g_subprocess_launcher_setenv (launcher, name, equals + 1, TRUE);
      else
        g_subprocess_launcher_unsetenv (launcher, name);
    }
  g_ptr_array_add (argv, (gpointer) program);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  return process;
}

void
ow_oomctl_finish (GSubprocess *process, OwOomctlRun *run)
{
  g_autoptr (GError) error = NULL;

  g_subprocess_communicate_utf8 (process, NULL, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
  g_test_message ("exit %d\nstdout:\n%s\nstderr:\n%s", run->status, run->out, run->err);
}

void
ow_oomctl_run (const char *cwd, const char *const *setenv, const char *const *args,
               OwOomctlRun *run)
{
  g_autoptr (GSubprocess) process = ow_oomctl_start (cwd, setenv, args);

  ow_oomctl_finish (process, run);
}
