/*
 * The target's confinement: what a runtime's own exec gives a process it starts in a container,
 * read from the target process itself so that it is the same for every runtime and adapter.
 * confine_read() runs in scope-exec on the host side, before any namespace is joined (it needs the
 * host's /proc, cgroup mounts and ptrace); confine_apply() runs in the forked child, inside, just
 * before execve. See confine-apply.c for the order and why.
 */
#ifndef SCOPE_CONFINE_H
#define SCOPE_CONFINE_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define MAX_CGROUPS 24
#define MAX_FILTERS 32
#define NLIMITS 16 /* RLIMIT_CPU .. RLIMIT_RTTIME, the rows of /proc/PID/limits */

struct seccomp_copy {
  struct sock_fprog prog;
  unsigned int flags; /* SECCOMP_FILTER_FLAG_LOG, the one flag the kernel tells back */
};

struct confinement {
  bool whole;                /* false with --privileged: only the cgroups are copied */
  uint64_t inh, prm, eff, bnd, amb;
  bool no_new_privs;
  int nfilters;              /* oldest first, the order to install them in */
  struct seccomp_copy filters[MAX_FILTERS];
  bool have_oom;             /* false where the file is not ours to read (a rootless engine's target) */
  int oom_score_adj;         /* the target's /proc/PID/oom_score_adj, which a runtime's exec inherits */
  int ncgroups;
  int cgroup_fds[MAX_CGROUPS]; /* per hierarchy, opened for writing on the host: v1's tasks, v2's cgroup.procs */
  int cgroup2_dir;             /* the target's v2 cgroup directory, to fork into (clone3); -1: none to join */
  int cgroup2_index;           /* which of cgroup_fds is its cgroup.procs; -1: none */
  bool have_limit[NLIMITS];
  struct rlimit limits[NLIMITS];
  char lsm[9];              /* "apparmor", "selinux" or "" */
  char label[256];           /* the profile or context to exec under */
  int proc_fd;               /* the host's /proc (O_PATH), to reach our own attr/exec inside */
  const char *filter_source; /* where the filters came from: "none" (no seccomp, or not whole), "live" (read from
                              * the target through ptrace) or "profile" (the runtime's profile, compiled here) */
};

/* What failed: the stage names the piece (for the engine's message), detail the item, errno the cause. */
struct confine_error {
  const char *stage;
  char detail[160];
  int err;
};

/* Reads every piece from the process `pid` pins (pidfd checked by the caller afterwards). Its
 * seccomp filters come from the runtime's profile on `profile_fd` (-1: none) when we cannot read them. */
int confine_read(pid_t pid, bool whole, int profile_fd, struct confinement *c, struct confine_error *e);

/* Closes the descriptors and frees the filters confine_read() left in *c: for a caller that does not exec. */
void confine_release(struct confinement *c);

/* Compiles a profile (see seccomp-profile.c for its lines) into one filter. */
int seccomp_from_profile(int fd, struct seccomp_copy *out, struct confine_error *e);

/* Moves the calling process into the target's cgroups: first, while it still may. `in_v2`: it was forked
 * into the v2 cgroup already (confine_fork). */
int confine_join_cgroups(const struct confinement *c, bool in_v2, struct confine_error *e);

/* fork(), but the child starts in the target's v2 cgroup where the kernel can (clone3 CLONE_INTO_CGROUP),
 * saying so in *in_v2 (in both processes). */
pid_t confine_fork(const struct confinement *c, bool *in_v2);

/* Takes the target's OOM score adjustment, right after the cgroups (the host's /proc is ours still). */
int confine_take_oom(const struct confinement *c, struct confine_error *e);

/* The verdict of c's filters, combined as the kernel combines them, on the native system call `nr` with `args`
 * (see seccomp-eval.c): a SECCOMP_RET_* action with its data; SECCOMP_RET_ALLOW with no filter. */
uint32_t seccomp_evaluate(const struct confinement *c, int nr, const uint64_t args[6]);

/* The action of a verdict as a word: "allow", "log", "errno:N", "trap", "trace", "user_notif", "kill_thread",
 * "kill_process". */
void seccomp_action_name(uint32_t ret, char *buf, size_t n);

struct exec_opts;

/* Takes the IDs of `o` and the rest of the confinement, inside, after the root was taken. */
int confine_apply(const struct confinement *c, const struct exec_opts *o, struct confine_error *e);

#endif
