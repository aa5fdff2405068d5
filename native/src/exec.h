/* scope-exec: runs a program inside a container's namespaces. See exec-helper.c. */
#ifndef SCOPE_EXEC_H
#define SCOPE_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

#define MAX_GROUPS 64

struct exec_opts {
  int pidfd;              /* --pidfd N: the target, pinned by the engine and inherited */
  pid_t pid;              /* --pid N: the same target's PID, for the fallback path and messages */
  int ns_flags;           /* --ns mnt,pid,...: CLONE_NEW* of the namespaces to join */
  bool set_ids;           /* --uid/--gid given */
  uid_t uid;
  gid_t gid;
  gid_t groups[MAX_GROUPS];
  int ngroups;            /* --groups a,b (default: just gid) */
  bool groups_given;
  const char *cwd;        /* --cwd DIR, inside the container (default /) */
  const char *exec_file;  /* --exec-file PATH: run this host file (a sealed copy of it), argv as given */
  bool tty;               /* --tty: the program gets a pseudo-terminal */
  bool keep;              /* --keep: outlive the engine (no parent-death signal) */
  int report_fd;          /* --report-fd N: one JSON line per event for the engine (-1: none) */
  int env_fd;             /* --env-fd N: the program's environment, NUL-separated, read to EOF (-1: none) */
  int seccomp_fd;         /* --seccomp-fd N: the runtime's seccomp profile, for when the live filter is unreadable
                           * (-1: none) */
  bool privileged;        /* --privileged: keep the engine's capabilities, no seccomp, no LSM label */
  bool no_caps;           /* --no-caps: the target's user namespace is not joined, so its capabilities count for
                           * nothing here */
  bool check;             /* --check: enter, then report what a program would meet there ("checked") instead of
                           * running one */
  char **argv;            /* the program and its arguments (empty with --check) */
};

/* Parses argv into *o; prints usage and exits 2 on a mistake. */
void parse_exec_args(int argc, char **argv, struct exec_opts *o);

/* Writes one JSON line to the report descriptor: {"event":..., "detail":...}. Safe after fork. */
void report(const struct exec_opts *o, const char *event, const char *stage, int err, long value, const char *detail);

struct confinement;

/* --check's one "checked" event: the cgroups to join as its value, the seccomp verdicts in its detail
 * (exec-check.c). */
void report_check(const struct exec_opts *o, const struct confinement *c);

/* Opens a pseudo-terminal pair on the host; returns the master, sets *slave. -1 on failure. */
int open_pty(int *slave);

/* Copies between our stdin/stdout and the pty master until the child is gone; returns its status. */
int relay_pty(int master, pid_t child);

#endif
