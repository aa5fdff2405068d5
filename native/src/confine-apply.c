/*
 * Taking the target's confinement in the child, inside the container, just before execve.
 *
 * The order follows runc's for a process joining a running container (setns_init_linux.go) and
 * crun's libcrun_join_process, and each step is where it is for a reason:
 *   0. cgroups (confine_join_cgroups), right after fork: the files were opened on the host, and from
 *      here on every page and process we make is charged to the container and limited by it; the
 *      frozen check already refused a paused container, whose freezer would stop us here.
 *   1. resource limits: lowering needs no privilege, raising a hard limit needs CAP_SYS_RESOURCE,
 *      so while we still have every capability.
 *   2. no_new_privs, when the target has it.
 *   3. the LSM label to exec under (attr/exec): it applies at execve, and writing it needs the
 *      privileges we drop at 5-6.
 *   4. seccomp, when the target has no no_new_privs: installing a filter then needs CAP_SYS_ADMIN in
 *      our user namespace, which goes at 6. The filters allow what follows (setuid, capset, execve)
 *      or the runtime's own exec could not work either.
 *   5. the bounding set: dropping needs CAP_SETPCAP in the effective set, which setuid to a
 *      non-root user clears; a smaller bounding set takes nothing from the current sets, so the
 *      ID change still works.
 *   6. IDs, with PR_SET_KEEPCAPS so that setuid to a non-root user keeps the permitted set, then
 *      capset and the ambient set.
 *      execve then gives the program what it gives a runtime's exec: root gets its bounding and
 *      inheritable sets, another user its ambient set.
 *   7. seccomp, when the target has no_new_privs: as late as possible, so the filter judges the
 *      fewest of our own calls.
 * The caller then changes directory as the user, marks every descriptor close-on-exec
 * (CVE-2024-21626: a host descriptor left open reaches the host's files) and execs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "confine.h"
#include "exec.h"

static const char *const LIMIT_NAMES[NLIMITS] = {
  "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
  "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
  "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

static int fail(struct confine_error *e, const char *stage, const char *detail) {
  e->stage = stage;
  e->err = errno;
  snprintf(e->detail, sizeof e->detail, "%.150s", detail);
  return -1;
}

int confine_join_cgroups(const struct confinement *c, bool in_v2, struct confine_error *e) {
  for (int i = 0; i < c->ncgroups; i++) {
    if (in_v2 && i == c->cgroup2_index) continue;
    /* "0" is the writer itself, whatever PID namespace it is in now. */
    if (write(c->cgroup_fds[i], "0", 1) != 1) return fail(e, "cgroup", "joining the target's cgroup");
  }
  return 0;
}

pid_t confine_fork(const struct confinement *c, bool *in_v2) {
  *in_v2 = false;
  if (c->cgroup2_dir >= 0) {
    struct clone_args args = {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)c->cgroup2_dir};
    long pid = syscall(SYS_clone3, &args, sizeof args);
    /* Both processes return here, as from fork(). */
    if (pid >= 0) {
      *in_v2 = true;
      return (pid_t)pid;
    }
    /* Before Linux 5.7 (no clone3, or no CLONE_INTO_CGROUP), or refused: the child moves itself, and a
     * refusal is then reported as the move's. */
  }
  return fork();
}

/* Supplementary groups cannot be set in a user namespace whose setgroups is "deny" (rootless
 * runtimes); there, the single group the program asked for is already its gid. */
/* The target's OOM score adjustment, so that the kernel chooses among the container's processes as it
 * would with the runtime's own exec. Raising it needs no privilege; lowering needs CAP_SYS_RESOURCE,
 * and where that is missing a score above the target's is kept: it only makes ours the likelier victim. */
int confine_take_oom(const struct confinement *c, struct confine_error *e) {
  if (!c->have_oom) return 0;
  char text[16], now[16] = "";
  int n = snprintf(text, sizeof text, "%d", c->oom_score_adj);
  int fd = open("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC);
  /* An engine without root, once in the container's user namespace and not dumpable, may not open its
   * own /proc files: the engine's score stays, as a rootless runtime's exec keeps its caller's. */
  if (fd < 0 && errno == EACCES) return 0;
  if (fd < 0) return fail(e, "oom_score_adj", "/proc/self/oom_score_adj");
  ssize_t got = read(fd, now, sizeof now - 1);
  ssize_t w = pwrite(fd, text, (size_t)n, 0);
  int err = errno;
  close(fd);
  if (w == n) return 0;
  bool higher = got > 0 && atoi(now) > c->oom_score_adj;
  if ((err == EACCES || err == EPERM) && higher) return 0;
  errno = err;
  return fail(e, "oom_score_adj", text);
}

static int set_groups(const struct exec_opts *o) {
  if (setgroups((size_t)o->ngroups, o->groups) == 0) return 0;
  if (errno != EPERM || o->ngroups > 1) return -1;
  char state[16] = "";
  int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, state, sizeof state - 1);
    close(fd);
    if (n > 0) state[n] = 0;
  }
  if (strncmp(state, "deny", 4) == 0) return 0;
  errno = EPERM;
  return -1;
}

static int set_ids(const struct exec_opts *o, struct confine_error *e) {
  if (!o->set_ids) return 0;
  if (set_groups(o) < 0) return fail(e, "setgroups", "");
  if (setgid(o->gid) < 0) return fail(e, "setgid", "");
  if (setuid(o->uid) < 0) return fail(e, "setuid", "");
  return 0;
}

static int set_limits(const struct confinement *c, struct confine_error *e) {
  for (int i = 0; i < NLIMITS; i++) {
    if (c->have_limit[i] && setrlimit((__rlimit_resource_t)i, &c->limits[i]) < 0)
      return fail(e, "rlimit", LIMIT_NAMES[i]);
  }
  return 0;
}

static int set_label(const struct confinement *c, struct confine_error *e) {
  if (!c->label[0]) return 0;
  bool apparmor = strcmp(c->lsm, "apparmor") == 0;
  /* thread-self in the host's /proc names this thread, whatever PID namespace it has joined. */
  int fd = openat(c->proc_fd, apparmor ? "thread-self/attr/apparmor/exec" : "thread-self/attr/exec",
                  O_WRONLY | O_CLOEXEC);
  if (fd < 0 && apparmor) fd = openat(c->proc_fd, "thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail(e, "lsm", c->label);
  char text[sizeof c->label + 8];
  int n = snprintf(text, sizeof text, apparmor ? "exec %s" : "%s", c->label);
  ssize_t w = write(fd, text, (size_t)n);
  int err = errno;
  close(fd);
  errno = err;
  return w == n ? 0 : fail(e, "lsm", c->label);
}

static int set_filters(const struct confinement *c, struct confine_error *e) {
  for (int i = 0; i < c->nfilters; i++) {
    unsigned int flags = c->filters[i].flags & SECCOMP_FILTER_FLAG_LOG;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &c->filters[i].prog) < 0)
      return fail(e, "seccomp", "installing a filter");
  }
  return 0;
}

static int set_bounding(const struct confinement *c, struct confine_error *e) {
  /* PR_CAPBSET_READ answers EINVAL past the kernel's last capability: no /proc needed after chroot. */
  for (int cap = 0; cap < 64 && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
    if (!(c->bnd >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
      return fail(e, "capabilities", "dropping from the bounding set");
  }
  return 0;
}

static int set_caps(const struct confinement *c, struct confine_error *e) {
  uint64_t keep = c->prm | c->inh | c->amb;
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {
    {.effective = (uint32_t)keep, .permitted = (uint32_t)keep, .inheritable = (uint32_t)c->inh},
    {.effective = (uint32_t)(keep >> 32), .permitted = (uint32_t)(keep >> 32), .inheritable = (uint32_t)(c->inh >> 32)},
  };
  if (syscall(SYS_capset, &hdr, data) < 0) return fail(e, "capabilities", "capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    return fail(e, "capabilities", "clearing the ambient set");
  for (int cap = 0; cap < 64; cap++) {
    if ((c->amb >> cap & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
      return fail(e, "capabilities", "raising an ambient capability");
    }
  }
  return prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ? fail(e, "capabilities", "PR_SET_KEEPCAPS") : 0;
}

int confine_apply(const struct confinement *c, const struct exec_opts *o, struct confine_error *e) {
  if (!c->whole) return set_ids(o, e); /* --privileged: the engine's own capabilities, no filter */
  if (set_limits(c, e) < 0) return -1;
  if (c->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return fail(e, "no_new_privs", "");
  if (set_label(c, e) < 0) return -1;
  if (!c->no_new_privs && set_filters(c, e) < 0) return -1;
  if (set_bounding(c, e) < 0) return -1;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return fail(e, "capabilities", "PR_SET_KEEPCAPS");
  if (set_ids(o, e) < 0 || set_caps(c, e) < 0) return -1;
  return c->no_new_privs ? set_filters(c, e) : 0;
}
