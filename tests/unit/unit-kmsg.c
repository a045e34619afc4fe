/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The /dev/kmsg parser over the record shapes kernels 4.19 to 6.18 print, and hostile ones. */
#include "ow-kmsg-parser.h"

#include <string.h>

static void
parse (const char *data, OwKmsgRecord *record)
{
  g_assert_true (ow_kmsg_parse (data, strlen (data), record));
}

static void
test_memcg_oom_kill (void)
{
  OwKmsgRecord r;

  parse ("6,490,455355892,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
         "mems_allowed=0,oom_memcg=/a/b,task_memcg=/a/b/c,task=python3,pid=9665,uid=1000\n",
         &r);
  g_assert_cmpint (r.kind, ==, OW_KMSG_OOM_KILL);
  g_assert_cmpuint (r.seq, ==, 490);
  g_assert_cmpuint (r.pid, ==, 9665);
  g_assert_true (r.has_uid);
  g_assert_cmpuint (r.uid, ==, 1000);
  g_assert_cmpstr (r.comm, ==, "python3");
  g_assert_cmpstr (r.task_memcg, ==, "/a/b/c");
  g_assert_cmpstr (r.oom_memcg, ==, "/a/b");
  g_assert_false (r.global);
  ow_kmsg_record_clear (&r);
}

static void
test_global_oom_kill (void)
{
  OwKmsgRecord r;

  /* 5.x/6.x global OOM; with a caller id field in the header (CONFIG_PRINTK_CALLER) */
  parse ("6,1201,98765,-,caller=T123;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),"
         "cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice/user-1000.slice,"
         "task=stress-ng,pid=4242,uid=1000\n",
         &r);
  g_assert_cmpint (r.kind, ==, OW_KMSG_OOM_KILL);
  g_assert_true (r.global);
  g_assert_null (r.oom_memcg);
  g_assert_cmpstr (r.task_memcg, ==, "/user.slice/user-1000.slice");
  g_assert_cmpstr (r.comm, ==, "stress-ng");
  g_assert_cmpuint (r.pid, ==, 4242);
  ow_kmsg_record_clear (&r);
}

static void
test_killed_process (void)
{
  const char *shapes[] = {
    /* 5.3+ */
    "3,491,455355912,-;Memory cgroup out of memory: Killed process 9665 (python3) "
    "total-vm:118968kB, anon-rss:32512kB, file-rss:6632kB, shmem-rss:0kB, UID:1000 "
    "pgtables:120kB oom_score_adj:0\n",
    /* 4.19: no UID */
    "3,77,1234,-;Killed process 9665 (python3) total-vm:118968kB, anon-rss:32512kB, "
    "file-rss:6632kB, shmem-rss:0kB\n",
    /* global */
    "3,12,1234,-;Out of memory: Killed process 9665 (python3) total-vm:1kB, anon-rss:1kB, "
    "file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:1kB oom_score_adj:0\n",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      OwKmsgRecord r;

      parse (shapes[i], &r);
      g_assert_cmpint (r.kind, ==, OW_KMSG_KILLED_PROCESS);
      g_assert_cmpuint (r.pid, ==, 9665);
      g_assert_cmpstr (r.comm, ==, "python3");
      g_assert_true (r.has_uid == (i != 1));
      if (r.has_uid)
        g_assert_cmpuint (r.uid, ==, 1000);
      g_assert_true (r.global == (i == 2));
      ow_kmsg_record_clear (&r);
    }
}

#define ALL_SIZES ((1u << OW_VICTIM_N_SIZES) - 1)
#define SIZE(s) (1u << (s))

/* The victim's memory in the "Killed process" line, as each kernel series prints it
 * (mm/oom_kill.c): a field the kernel does not print is absent. */
static void
test_killed_process_memory (void)
{
  const struct
  {
    const char *record;
    guint present;
    gboolean has_adj;
    gint32 adj;
  } cases[] = {
    /* 4.4 and before: no shmem-rss */
    { "3,9,1,-;Killed process 9665 (python3) total-vm:118968kB, anon-rss:32512kB, "
      "file-rss:6632kB\n",
      SIZE (OW_VICTIM_TOTAL_VM) | SIZE (OW_VICTIM_ANON_RSS) | SIZE (OW_VICTIM_FILE_RSS), FALSE, 0 },
    /* 4.5 to 5.0 (4.19): shmem-rss, no prefix, no UID */
    { "3,9,1,-;Killed process 9665 (python3) total-vm:118968kB, anon-rss:32512kB, "
      "file-rss:6632kB, shmem-rss:4kB\n",
      ALL_SIZES & ~SIZE (OW_VICTIM_PGTABLES), FALSE, 0 },
    /* 5.1 to 5.3: the constraint's message in front */
    { "3,9,1,-;Memory cgroup out of memory: Killed process 9665 (python3) total-vm:118968kB, "
      "anon-rss:32512kB, file-rss:6632kB, shmem-rss:4kB\n",
      ALL_SIZES & ~SIZE (OW_VICTIM_PGTABLES), FALSE, 0 },
    /* 5.4 to 6.x: UID, pgtables, oom_score_adj */
    { "3,9,1,-;Memory cgroup out of memory: Killed process 9665 (python3) total-vm:118968kB, "
      "anon-rss:32512kB, file-rss:6632kB, shmem-rss:4kB, UID:1000 pgtables:120kB "
      "oom_score_adj:-500\n",
      ALL_SIZES, TRUE, -500 },
    /* 6.x global OOM, a name that mimics the fields */
    { "3,9,1,-;Out of memory: Killed process 9665 (x anon-rss:1kB) total-vm:118968kB, "
      "anon-rss:32512kB, file-rss:6632kB, shmem-rss:4kB, UID:0 pgtables:120kB "
      "oom_score_adj:1000\n",
      ALL_SIZES, TRUE, 1000 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      OwKmsgRecord r;

      parse (cases[i].record, &r);
      g_assert_cmpint (r.kind, ==, OW_KMSG_KILLED_PROCESS);
      g_assert_cmphex (r.memory.present, ==, cases[i].present);
      g_assert_cmpuint (r.memory.bytes[OW_VICTIM_TOTAL_VM], ==, 118968ull * 1024);
      g_assert_cmpuint (r.memory.bytes[OW_VICTIM_ANON_RSS], ==, 32512ull * 1024);
      g_assert_cmpuint (r.memory.bytes[OW_VICTIM_FILE_RSS], ==, 6632ull * 1024);
      if (r.memory.present & SIZE (OW_VICTIM_SHMEM_RSS))
        g_assert_cmpuint (r.memory.bytes[OW_VICTIM_SHMEM_RSS], ==, 4096);
      if (r.memory.present & SIZE (OW_VICTIM_PGTABLES))
        g_assert_cmpuint (r.memory.bytes[OW_VICTIM_PGTABLES], ==, 120 * 1024);
      g_assert_true (r.memory.has_oom_score_adj == cases[i].has_adj);
      g_assert_cmpint (r.memory.oom_score_adj, ==, cases[i].adj);
      ow_kmsg_record_clear (&r);
    }
}

/* Out of range or malformed numbers: the field is absent, never a wrong value. */
static void
test_killed_process_memory_malformed (void)
{
  OwKmsgRecord r;

  parse ("3,9,1,-;Killed process 1 (a) total-vm:99999999999999999999999kB, anon-rss:12, "
         "file-rss:kB, shmem-rss:1kB, UID:0 pgtables:1MB oom_score_adj:5000\n",
         &r);
  g_assert_cmpint (r.kind, ==, OW_KMSG_KILLED_PROCESS);
  g_assert_cmphex (r.memory.present, ==, SIZE (OW_VICTIM_SHMEM_RSS));
  g_assert_false (r.memory.has_oom_score_adj);
  ow_kmsg_record_clear (&r);
}

static void
test_hostile_names (void)
{
  const struct
  {
    const char *record, *comm, *task_memcg;
    guint32 pid;
  } cases[] = {
    /* a name with commas, "pid=" and "uid=" in it */
    { "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
      "oom_memcg=/x,task_memcg=/x,task=a,pid=1,uid=2,pid=77,uid=0\n",
      "a,pid=1,uid=2", "/x", 77 },
    /* a name with ",task=" in it */
    { "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
      "oom_memcg=/x,task_memcg=/x,task=a,task=b,pid=78,uid=0\n",
      "a,task=b", "/x", 78 },
    /* escaped bytes: a space, a tab (kept escaped: not clean), UTF-8 */
    { "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
      "oom_memcg=/x,task_memcg=/x,task=h\\xc3\\xa9 llo,pid=79,uid=0\n",
      "hé llo", "/x", 79 },
    { "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
      "oom_memcg=/x,task_memcg=/x,task=tab\\x09me,pid=80,uid=0\n",
      "tab\\x09me", "/x", 80 },
    /* invalid UTF-8 stays in the kernel's escaped form */
    { "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
      "oom_memcg=/x,task_memcg=/x,task=\\xff\\xfe,pid=81,uid=0\n",
      "\\xff\\xfe", "/x", 81 },
    /* a cgroup with commas */
    { "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
      "oom_memcg=/a,b,task_memcg=/a,b/c,d,task=x,pid=82,uid=0\n",
      "x", "/a,b/c,d", 82 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      OwKmsgRecord r;

      parse (cases[i].record, &r);
      g_assert_cmpint (r.kind, ==, OW_KMSG_OOM_KILL);
      g_assert_cmpstr (r.comm, ==, cases[i].comm);
      g_assert_cmpstr (r.task_memcg, ==, cases[i].task_memcg);
      g_assert_cmpuint (r.pid, ==, cases[i].pid);
      g_assert_true (g_utf8_validate (r.comm, -1, NULL));
      ow_kmsg_record_clear (&r);
    }
}

static void
test_killed_process_hostile (void)
{
  OwKmsgRecord r;

  parse ("3,1,1,-;Memory cgroup out of memory: Killed process 5 (a) total-vm:1kB ) b) "
         "total-vm:118968kB, anon-rss:1kB, file-rss:1kB, shmem-rss:0kB, UID:3 pgtables:1kB "
         "oom_score_adj:0\n",
         &r);
  g_assert_cmpint (r.kind, ==, OW_KMSG_KILLED_PROCESS);
  g_assert_cmpstr (r.comm, ==, "a) total-vm:1kB ) b");
  g_assert_cmpuint (r.uid, ==, 3);
  ow_kmsg_record_clear (&r);
}

static void
test_continuation_and_others (void)
{
  OwKmsgRecord r;

  /* continuation lines (" KEY=value") are not part of the text */
  parse ("6,9,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
         "mems_allowed=0,oom_memcg=/q,task_memcg=/q,task=w,pid=3,uid=0\n SUBSYSTEM=memory\n"
         " DEVICE=+x:y\n",
         &r);
  g_assert_cmpint (r.kind, ==, OW_KMSG_OOM_KILL);
  g_assert_cmpuint (r.uid, ==, 0);
  ow_kmsg_record_clear (&r);

  parse ("4,414,455355584,-;python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
         "oom_score_adj=0\n",
         &r);
  g_assert_cmpint (r.kind, ==, OW_KMSG_OTHER);
  ow_kmsg_record_clear (&r);

  parse ("6,415,1,-;oom_reaper: reaped process 9665 (python3), now anon-rss:0kB\n", &r);
  g_assert_cmpint (r.kind, ==, OW_KMSG_OTHER);
  ow_kmsg_record_clear (&r);
}

static void
test_truncated (void)
{
  const char *bad[] = {
    "",
    "6,1,1",
    "no header;text",
    "6,x,1,-;oom-kill:x",
    "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/a,task_memcg=/a,task=x,pid=",
    "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/a,task_memcg=/a,task=x,pid=1,uid=",
    "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/a,task_memcg=/a,task=a-name-that-is-far-too-long-to-be-one,pid=1,uid=0",
    "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/a,task=x,pid=1,uid=0",
    "6,1,1,-;Memory cgroup out of memory: Killed process 12 (unterminated",
    "6,1,1,-;Memory cgroup out of memory: Killed process abc (x) total-vm:1kB",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      OwKmsgRecord r;

      /* Malformed: either refused, or not taken for an OOM record. */
      if (ow_kmsg_parse (bad[i], strlen (bad[i]), &r))
        g_assert_cmpint (r.kind, ==, OW_KMSG_OTHER);
      ow_kmsg_record_clear (&r);
    }
}

/* The header's numbers: digits only, PRIO within 32 bits, SEQ within 64, and at least four
 * fields before the text. */
static void
test_header (void)
{
  const struct
  {
    const char *record;
    gboolean ok;
    guint64 seq;
  } cases[] = {
    { "6,18446744073709551615,1,-;x", TRUE, G_MAXUINT64 },
    { "4294967295,5,1,-;x", TRUE, 5 },
    { "006,007,1,-,extra;x", TRUE, 7 },
    { "4294967296,5,1,-;x", FALSE, 0 },
    { "6,18446744073709551616,1,-;x", FALSE, 0 },
    { "6,1,1;x", FALSE, 0 },
    { "+6,1,1,-;x", FALSE, 0 },
    { "6,-1,1,-;x", FALSE, 0 },
    { " 6,1,1,-;x", FALSE, 0 },
    { "6,,1,-;x", FALSE, 0 },
    { ",1,1,-;x", FALSE, 0 },
    { "6,1;x,1,-", FALSE, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      OwKmsgRecord r;
      gboolean ok = ow_kmsg_parse (cases[i].record, strlen (cases[i].record), &r);

      g_assert_cmpint (ok, ==, cases[i].ok);
      if (ok)
        g_assert_cmpuint (r.seq, ==, cases[i].seq);
      ow_kmsg_record_clear (&r);
    }
}

/* Anyone may write to /dev/kmsg, but only the kernel writes with facility 0 (PRIO < 8): a
 * record of any other facility is never taken for a kill, however it reads. */
static void
test_facility (void)
{
  const char *text = "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
                     "mems_allowed=0,oom_memcg=/x,task_memcg=/x,task=a,pid=9,uid=0\n";
  const char *killed = "Memory cgroup out of memory: Killed process 9 (a) total-vm:1kB, UID:0\n";
  const struct
  {
    const char *prio;
    gboolean trusted;
  } cases[] = {
    { "0", TRUE }, { "3", TRUE }, { "7", TRUE },       /* kernel, any level */
    { "8", FALSE }, { "14", FALSE }, { "12", FALSE }, /* user (1 << 3), e.g. from echo */
    { "30", FALSE }, { "191", FALSE },                /* daemon, local7 */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (guint k = 0; k < 2; k++)
      {
        g_autofree char *record
            = g_strdup_printf ("%s,77,1,-;%s", cases[i].prio, k == 0 ? text : killed);
        OwKmsgRecord r;

        parse (record, &r);
        g_assert_cmpuint (r.seq, ==, 77); /* the sequence is read whatever the facility */
        if (cases[i].trusted)
          g_assert_cmpint (r.kind, ==, k == 0 ? OW_KMSG_OOM_KILL : OW_KMSG_KILLED_PROCESS);
        else
          {
            g_assert_cmpint (r.kind, ==, OW_KMSG_OTHER);
            g_assert_null (r.comm);
          }
        ow_kmsg_record_clear (&r);
      }
}

/* When a cgroup or cpuset name repeats a field name, where a field starts is a guess: the
 * record still names the process (pid, uid, comm) but no cgroup, so no cgroup is told of a
 * kill someone forged into its name. */
static void
test_ambiguous (void)
{
  const struct
  {
    const char *record, *comm;
    guint32 pid;
  } cases[] = {
    /* a cpuset named like a task_memcg field */
    { "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),"
      "cpuset=/e,task_memcg=/victim,mems_allowed=0,oom_memcg=/x,task_memcg=/x,task=a,pid=5,"
      "uid=0\n",
      "a", 5 },
    /* an oom cgroup whose name holds ",task_memcg=" */
    { "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
      "oom_memcg=/x,task_memcg=/y,task_memcg=/x,task=b,pid=6,uid=1000\n",
      "b", 6 },
    /* a cpuset whose name holds ",oom_memcg=" */
    { "6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/e,oom_memcg=/fake,"
      "mems_allowed=0,oom_memcg=/x,task_memcg=/x,task=c,pid=7,uid=0\n",
      "c", 7 },
  };
  OwKmsgRecord r;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      parse (cases[i].record, &r);
      g_assert_cmpint (r.kind, ==, OW_KMSG_OOM_KILL);
      g_assert_true (r.ambiguous);
      g_assert_cmpstr (r.comm, ==, cases[i].comm);
      g_assert_cmpuint (r.pid, ==, cases[i].pid);
      g_assert_true (r.has_uid);
      g_assert_null (r.task_memcg);
      g_assert_null (r.oom_memcg);
      ow_kmsg_record_clear (&r);
    }
  /* The unambiguous form of the same records is not flagged. */
  parse ("6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/e,"
         "mems_allowed=0,oom_memcg=/x,task_memcg=/x/y,task=a,pid=5,uid=0\n",
         &r);
  g_assert_false (r.ambiguous);
  g_assert_cmpstr (r.task_memcg, ==, "/x/y");
  g_assert_cmpstr (r.oom_memcg, ==, "/x");
  ow_kmsg_record_clear (&r);
  /* A field name after task_memcg= can only be inside the task's cgroup: one way to read it. */
  parse ("6,1,1,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
         "mems_allowed=0,oom_memcg=/x,task_memcg=/x,oom_memcg=/z,task=c,pid=7,uid=0\n",
         &r);
  g_assert_false (r.ambiguous);
  g_assert_cmpstr (r.task_memcg, ==, "/x,oom_memcg=/z");
  g_assert_cmpstr (r.oom_memcg, ==, "/x");
  ow_kmsg_record_clear (&r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kmsg/memcg-oom-kill", test_memcg_oom_kill);
  g_test_add_func ("/kmsg/global-oom-kill", test_global_oom_kill);
  g_test_add_func ("/kmsg/killed-process", test_killed_process);
  g_test_add_func ("/kmsg/killed-process-memory", test_killed_process_memory);
  g_test_add_func ("/kmsg/killed-process-memory-malformed", test_killed_process_memory_malformed);
  g_test_add_func ("/kmsg/hostile-names", test_hostile_names);
  g_test_add_func ("/kmsg/killed-process-hostile", test_killed_process_hostile);
  g_test_add_func ("/kmsg/continuation-and-others", test_continuation_and_others);
  g_test_add_func ("/kmsg/truncated", test_truncated);
  g_test_add_func ("/kmsg/facility", test_facility);
  g_test_add_func ("/kmsg/header", test_header);
  g_test_add_func ("/kmsg/ambiguous", test_ambiguous);
  return g_test_run ();
}
