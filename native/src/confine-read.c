/*
 * Reading the target's confinement from the target process itself, on the host side: its
 * /proc/PID/status (capabilities, no_new_privs, seccomp mode), /proc/PID/limits, /proc/PID/cgroup
 * (against the host's cgroup mounts), /proc/PID/attr/current, and its seccomp filters through
 * ptrace. Nothing a runtime or an adapter says is trusted for any of it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <limits.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "confine.h"

/* The kernel gives a stopped tracee's filters only; a target that does not stop in this time is refused. */
enum { STOP_TIMEOUT_S = 5 };

static int fail(struct confine_error *e, const char *stage, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct confine_error *e, const char *stage, int err, const char *fmt, ...) {
  e->stage = stage;
  e->err = err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->detail, sizeof e->detail, fmt, ap);
  va_end(ap);
  return -1;
}

/* The whole of a small /proc file, NUL-terminated; -1 with errno set. */
static ssize_t slurp(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = 0;
  ssize_t r = 0;
  while (n < size - 1 && ((r = read(fd, buf + n, size - 1 - n)) > 0 || (r < 0 && errno == EINTR))) {
    if (r > 0) n += (size_t)r;
  }
  int err = errno;
  close(fd);
  if (r < 0) {
    errno = err;
    return -1;
  }
  buf[n] = 0;
  return (ssize_t)n;
}

/* The value after "Key:" in a status file, or NULL. */
static const char *field(const char *status, const char *key) {
  size_t k = strlen(key);
  for (const char *line = status; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, key, k) == 0 && line[k] == ':') return line + k + 1;
  }
  return NULL;
}

static int read_status(pid_t pid, struct confinement *c, int *seccomp_mode, int *nfilters, struct confine_error *e) {
  char path[64], buf[8192];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  if (slurp(path, buf, sizeof buf) < 0) return fail(e, "status", errno, "%s", path);
  struct { const char *key; uint64_t *into; } caps[] = {
    {"CapInh", &c->inh}, {"CapPrm", &c->prm}, {"CapEff", &c->eff}, {"CapBnd", &c->bnd}, {"CapAmb", &c->amb},
  };
  for (size_t i = 0; i < sizeof caps / sizeof *caps; i++) {
    const char *v = field(buf, caps[i].key);
    if (!v) return fail(e, "status", ENOTSUP, "%s has no %s line", path, caps[i].key);
    *caps[i].into = strtoull(v, NULL, 16);
  }
  const char *nnp = field(buf, "NoNewPrivs"), *mode = field(buf, "Seccomp"), *count = field(buf, "Seccomp_filters");
  if (!nnp || !mode) return fail(e, "status", ENOTSUP, "%s has no NoNewPrivs or Seccomp line", path);
  c->no_new_privs = strtol(nnp, NULL, 10) != 0;
  *seccomp_mode = (int)strtol(mode, NULL, 10);
  *nfilters = count ? (int)strtol(count, NULL, 10) : -1; /* the count line came with kernel 5.9 */
  return 0;
}

/* /proc/PID/limits: a header, then one row per resource in RLIMIT_* order, columns at fixed offsets
 * ("%-25s %-20s %-20s"). Read as text because prlimit() on another process needs CAP_SYS_RESOURCE
 * or the same IDs, and a user-namespaced target has neither. */
static int read_limits(pid_t pid, struct confinement *c, struct confine_error *e) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/limits", (int)pid);
  if (slurp(path, buf, sizeof buf) < 0) return fail(e, "limits", errno, "%s", path);
  char *line = strchr(buf, '\n');
  for (int i = 0; i < NLIMITS && line && line[1]; i++) {
    line++;
    char *end = strchr(line, '\n');
    if (end) *end = 0;
    char soft[32], hard[32];
    if (strlen(line) < 26 || sscanf(line + 26, "%31s %31s", soft, hard) != 2) {
      return fail(e, "limits", ENOTSUP, "%s row %d is not \"name soft hard\"", path, i + 1);
    }
    c->limits[i].rlim_cur = strcmp(soft, "unlimited") == 0 ? RLIM_INFINITY : strtoull(soft, NULL, 10);
    c->limits[i].rlim_max = strcmp(hard, "unlimited") == 0 ? RLIM_INFINITY : strtoull(hard, NULL, 10);
    c->have_limit[i] = true;
    line = end;
  }
  return 0;
}

/* Does the comma-separated `want` (a hierarchy's controllers, "cpu,cpuacct" or "name=systemd")
 * appear whole in the super options of a cgroup v1 mount ("rw,cpu,cpuacct")? */
static bool has_controllers(const char *opts, const char *want) {
  char copy[256];
  snprintf(copy, sizeof copy, "%s", want);
  for (char *save, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    size_t n = strlen(tok);
    const char *p = opts;
    bool found = false;
    while ((p = strstr(p, tok))) {
      if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == 0 || p[n] == '\n')) { found = true; break; }
      p += n;
    }
    if (!found) return false;
  }
  return true;
}

/* Whether the cgroup `cpath` is below a mount of its hierarchy whose own root is `root`. */
static bool covers(const char *root, const char *cpath) {
  size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
  return rl == 0 || (strncmp(cpath, root, rl) == 0 && (cpath[rl] == '/' || cpath[rl] == 0));
}

/*
 * Where the hierarchy `controllers` ("" for cgroup v2) is mounted here so that `cpath` is below it,
 * and the mount's own root; a writable mount wins. An engine in a container has its own cgroup
 * mounted read-only at /sys/fs/cgroup, rooted at its own cgroup, and the host's whole hierarchy under
 * the host's root (/hostfs/sys/fs/cgroup): only the latter reaches a target's cgroup. Without one
 * that covers `cpath`, the first mount of the hierarchy, for the error to name.
 */
static bool find_mount(const char *mountinfo, const char *controllers, const char *cpath, char *point, size_t psize,
                       char *root, size_t rsize) {
  bool v2 = controllers[0] == 0;
  int best = -1; /* 0: a mount of the hierarchy, 1: one that covers cpath, 2: a writable one that does */
  for (const char *line = mountinfo; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    const char *sep = strstr(line, " - ");
    const char *eol = strchr(line, '\n');
    if (!sep || (eol && sep > eol)) continue;
    char fstype[32], opts[512], mroot[PATH_MAX], mpoint[PATH_MAX], mopts[512];
    if (sscanf(sep + 3, "%31s %*s %511s", fstype, opts) != 2) continue;
    if (sscanf(line, "%*s %*s %*s %4095s %4095s %511s", mroot, mpoint, mopts) != 3) continue;
    if (v2 ? strcmp(fstype, "cgroup2") != 0 : strcmp(fstype, "cgroup") != 0 || !has_controllers(opts, controllers))
      continue;
    bool rw = strncmp(mopts, "rw", 2) == 0 && (mopts[2] == ',' || mopts[2] == 0);
    int rank = covers(mroot, cpath) ? (rw ? 2 : 1) : 0;
    if (rank <= best) continue;
    snprintf(point, psize, "%s", mpoint);
    snprintf(root, rsize, "%s", mroot);
    best = rank;
    if (best == 2) return true;
  }
  return best >= 0;
}

/* Whether `text` has `line` as one of its lines, whole. */
static bool has_line(const char *text, const char *line) {
  size_t n = strlen(line);
  for (const char *p = strstr(text, line); p; p = strstr(p + 1, line)) {
    if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0)) return true;
  }
  return false;
}

/* A paused container's processes are frozen: joining its cgroup would freeze us too. */
static bool frozen(const char *dir, bool v2) {
  char path[PATH_MAX + 32], buf[256];
  snprintf(path, sizeof path, "%s/%s", dir, v2 ? "cgroup.events" : "freezer.state");
  if (slurp(path, buf, sizeof buf) < 0) return false;
  return v2 ? strstr(buf, "frozen 1") != NULL : strncmp(buf, "FROZEN", 6) == 0 || strncmp(buf, "FREEZING", 8) == 0;
}

static int read_cgroups(pid_t pid, struct confinement *c, struct confine_error *e) {
  char path[64], lines[16384];
  snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
  ssize_t n = slurp(path, lines, sizeof lines);
  if (n < 0) return fail(e, "cgroup", errno, "%s", path);
  if ((size_t)n == sizeof lines - 1) return fail(e, "cgroup", E2BIG, "%s is larger than %zu bytes", path, sizeof lines);
  /* A host with many containers has a long mountinfo: read it whole, whatever its size (up to 16 MiB). */
  static char mountinfo[16 << 20];
  n = slurp("/proc/self/mountinfo", mountinfo, sizeof mountinfo);
  if (n < 0) return fail(e, "cgroup", errno, "/proc/self/mountinfo");
  if ((size_t)n == sizeof mountinfo - 1) return fail(e, "cgroup", E2BIG, "/proc/self/mountinfo is larger than 16 MiB");
  /* Where we are already (a rootless runtime on cgroup v1 leaves its containers in their user's
   * cgroups), there is nothing to join, and nothing to be refused. */
  char own[16384];
  if (slurp("/proc/self/cgroup", own, sizeof own) < 0) return fail(e, "cgroup", errno, "/proc/self/cgroup");
  bool any_v1 = false;
  for (char *save, *line = strtok_r(lines, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    bool here = has_line(own, line);
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) return fail(e, "cgroup", ENOTSUP, "%s: unexpected line", path);
    *c2 = 0;
    const char *controllers = c1 + 1, *cpath = c2 + 1;
    bool v2 = controllers[0] == 0;
    any_v1 |= !v2;
    char point[PATH_MAX], root[PATH_MAX];
    if (!find_mount(mountinfo, controllers, cpath, point, sizeof point, root, sizeof root)) {
      /* On a hybrid host the empty v2 line is systemd's bookkeeping; it is only a limit when v2 is mounted. */
      if (v2 && any_v1) continue;
      return fail(e, "cgroup", ENOENT, "hierarchy \"%s\" is not mounted here", v2 ? "cgroup2" : controllers);
    }
    size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
    if (!covers(root, cpath)) {
      return fail(e, "cgroup", ENOENT, "%s is outside the mount of \"%s\" (%s)", cpath, controllers, root);
    }
    char dir[PATH_MAX];
    if ((size_t)snprintf(dir, sizeof dir, "%s%s", point, cpath + rl) >= sizeof dir) {
      return fail(e, "cgroup", ENAMETOOLONG, "the cgroup path of \"%s\"", controllers);
    }
    if ((v2 || strstr(controllers, "freezer")) && frozen(dir, v2)) return fail(e, "paused", 0, "%s", dir);
    if (here) continue;
    if (c->ncgroups == MAX_CGROUPS) return fail(e, "cgroup", E2BIG, "more than %d hierarchies", MAX_CGROUPS);
    /* v1: the thread's own file, tasks, not cgroup.procs. Moving a whole process takes a global lock whose
     * release waits for an RCU grace period (some 10 ms a command here, and docker exec pays it); moving
     * the one thread of a single-threaded child, itself, takes none since Linux 6.0 and is the same move. */
    char procs[PATH_MAX + 16];
    snprintf(procs, sizeof procs, "%s/%s", dir, v2 ? "cgroup.procs" : "tasks");
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    /* A user's rootless container on cgroup v1 has no cgroup of its own, only one it inherited that
     * the user may not write: runc and crun ignore that for a rootless exec, and so do we. Root is
     * never excused. */
    if (fd < 0 && (errno == EACCES || errno == EPERM) && geteuid() != 0) continue;
    if (fd < 0) return fail(e, "cgroup", errno, "%s", procs);
    if (v2) {
      /* The directory too: a child can be forked straight into it, which takes no such lock either. */
      c->cgroup2_dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      c->cgroup2_index = c->ncgroups;
    }
    c->cgroup_fds[c->ncgroups++] = fd;
  }
  return 0;
}

static void on_alarm(int sig) { (void)sig; }

/* Another scope-exec entering the same container holds the target for a few microseconds: a
 * busy target is tried again for up to a second; a tracer that stays is named in the error. */
static int seize(pid_t pid, struct confine_error *e) {
  for (int waited_ms = 0;; waited_ms += 2) {
    if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0) return 0;
    int err = errno;
    if (err != EPERM || waited_ms >= 1000) {
      char path[64], buf[8192];
      snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
      const char *tracer = slurp(path, buf, sizeof buf) > 0 ? field(buf, "TracerPid") : NULL;
      long by = tracer ? strtol(tracer, NULL, 10) : 0;
      if (by)
        return fail(e, "seccomp", EBUSY, "PID %d is traced by PID %ld, so its filters cannot be read", (int)pid, by);
      return fail(e, "seccomp", err, "PTRACE_SEIZE of PID %d", (int)pid);
    }
    struct timespec step = {0, 2000000L};
    nanosleep(&step, NULL);
  }
}

/* Stops the target for a moment (PTRACE_SEIZE + PTRACE_INTERRUPT: no signal it could see), copies
 * its filters and their flags, and lets it go. Index 0 is the newest filter; we keep oldest first. */
static int read_filters(pid_t pid, int expected, struct confinement *c, struct confine_error *e) {
  if (seize(pid, e) < 0) return -1;
  struct sigaction sa = {.sa_handler = on_alarm}, old;
  sigaction(SIGALRM, &sa, &old); /* no SA_RESTART: the alarm interrupts waitpid */
  int rc = 0, status;
  alarm(STOP_TIMEOUT_S);
  if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0) rc = fail(e, "seccomp", errno, "PTRACE_INTERRUPT of PID %d", (int)pid);
  else if (waitpid(pid, &status, __WALL) < 0) {
    rc = fail(e, "seccomp", errno == EINTR ? ETIMEDOUT : errno, "PID %d did not stop within %ds", (int)pid,
              STOP_TIMEOUT_S);
  } else if (!WIFSTOPPED(status)) rc = fail(e, "seccomp", ESRCH, "PID %d ended", (int)pid);
  alarm(0);
  sigaction(SIGALRM, &old, NULL);
  struct seccomp_copy newest_first[MAX_FILTERS];
  int n = 0;
  while (rc == 0) {
    long len = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)(long)n, NULL);
    if (len < 0 && errno == ENOENT) break;
    if (len < 0) { rc = fail(e, "seccomp", errno, "PTRACE_SECCOMP_GET_FILTER %d of PID %d", n, (int)pid); break; }
    if (n == MAX_FILTERS) {
      rc = fail(e, "seccomp", E2BIG, "PID %d has more than %d filters", (int)pid, MAX_FILTERS);
      break;
    }
    struct sock_filter *insns = calloc((size_t)len, sizeof *insns);
    if (!insns) { rc = fail(e, "seccomp", ENOMEM, "filter %d of PID %d", n, (int)pid); break; }
    struct __ptrace_seccomp_metadata md = {.filter_off = (uint64_t)n};
    if (!insns || ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)(long)n, insns) != len ||
        ptrace(PTRACE_SECCOMP_GET_METADATA, pid, (void *)sizeof md, &md) < 0) {
      free(insns);
      rc = fail(e, "seccomp", errno ? errno : EIO, "copying filter %d of PID %d", n, (int)pid);
      break;
    }
    newest_first[n++] = (struct seccomp_copy){.prog = {.len = (unsigned short)len, .filter = insns},
                                              .flags = (unsigned)md.flags};
  }
  ptrace(PTRACE_DETACH, pid, 0, 0);
  if (rc == 0 && expected >= 0 && n != expected)
    rc = fail(e, "seccomp", EIO, "read %d filters, PID %d has %d", n, (int)pid, expected);
  for (int i = 0; i < n; i++) c->filters[i] = newest_first[n - 1 - i];
  c->nfilters = rc == 0 ? n : 0;
  return rc;
}

/* The LSM label the target runs under. A kernel without AppArmor or SELinux answers EINVAL. */
static int read_label(pid_t pid, struct confinement *c, struct confine_error *e) {
  char path[64], buf[sizeof c->label];
  snprintf(path, sizeof path, "/proc/%d/attr/current", (int)pid);
  ssize_t n = slurp(path, buf, sizeof buf);
  if (n == (ssize_t)sizeof buf - 1)
    return fail(e, "lsm", E2BIG, "the label of PID %d is longer than %zu bytes", (int)pid, sizeof buf - 2);
  if (n < 0) {
    if (errno == EINVAL || errno == ENOENT) return 0;
    return fail(e, "lsm", errno, "%s", path);
  }
  buf[strcspn(buf, "\n")] = 0;
  struct stat st;
  if (stat("/sys/fs/selinux", &st) == 0) {
    snprintf(c->lsm, sizeof c->lsm, "selinux");
  } else if (stat("/sys/module/apparmor", &st) == 0) {
    if (strcmp(buf, "unconfined") == 0) return 0;
    char *mode = strrchr(buf, '(');
    if (mode && mode > buf && mode[-1] == ' ')
      mode[-1] = 0; /* "docker-default (enforce)": the profile, without its mode */
    memcpy(c->lsm, "apparmor", sizeof c->lsm);
  } else {
    return buf[0] ? fail(e, "lsm", ENOTSUP, "label \"%.64s\" of an LSM that is neither AppArmor nor SELinux", buf) : 0;
  }
  memcpy(c->label, buf, sizeof c->label);
  c->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  return c->proc_fd < 0 ? fail(e, "lsm", errno, "/proc") : 0;
}

/* Whether the kernel would give us another process's filters: CAP_SYS_ADMIN, and no filter of our own. */
static bool can_read_filters(void) {
  char buf[8192];
  if (slurp("/proc/self/status", buf, sizeof buf) < 0) return false;
  const char *eff = field(buf, "CapEff"), *mode = field(buf, "Seccomp");
  return eff && mode && (strtoull(eff, NULL, 16) >> 21 & 1) && strtol(mode, NULL, 10) == 0;
}

/* The OOM score adjustment: what a runtime's exec'd process has, from the shim the container's
 * processes came from; copied even with --privileged, as the cgroups are: it is about whom the
 * kernel kills in the container's memory cgroup, not about privilege. */
static int read_oom(pid_t pid, struct confinement *c, struct confine_error *e) {
  char path[64], buf[32];
  snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
  if (slurp(path, buf, sizeof buf) < 0) {
    /* Without root, a rootless container's /proc files belong to a subordinate ID the kernel lets only
     * root read: the program keeps the engine's score, as the runtime's exec keeps its caller's. */
    if ((errno == EACCES || errno == EPERM) && geteuid() != 0) return 0;
    return fail(e, "oom_score_adj", errno, "%s", path);
  }
  char *end;
  long v = strtol(buf, &end, 10);
  if (end == buf || v < -1000 || v > 1000) return fail(e, "oom_score_adj", EINVAL, "%s: \"%.16s\"", path, buf);
  c->oom_score_adj = (int)v;
  c->have_oom = true;
  return 0;
}

int confine_read(pid_t pid, bool whole, int profile_fd, struct confinement *c, struct confine_error *e) {
  memset(c, 0, sizeof *c);
  c->whole = whole;
  c->proc_fd = -1;
  c->cgroup2_dir = c->cgroup2_index = -1;
  c->filter_source = "none";
  if (read_cgroups(pid, c, e) < 0 || read_oom(pid, c, e) < 0) return -1;
  if (!whole) return 0;
  int mode, nfilters;
  if (read_status(pid, c, &mode, &nfilters, e) < 0 || read_limits(pid, c, e) < 0 || read_label(pid, c, e) < 0)
    return -1;
  if (mode == 1) return fail(e, "seccomp", ENOTSUP, "PID %d is in seccomp strict mode, which allows no exec", (int)pid);
  if (mode != 2) return 0;
  /* The live filters are the truth; the runtime's profile stands in only where they cannot be read,
   * and only for a target under exactly the one filter a profile makes (not one it added itself). */
  if (profile_fd < 0 || can_read_filters()) {
    if (read_filters(pid, nfilters, c, e) < 0) return -1;
    c->filter_source = "live";
    return 0;
  }
  if (nfilters != 1) {
    return fail(e, "seccomp", EPERM,
                "PID %d runs under %d filters, which only root can read; its runtime's profile gives one", (int)pid,
                nfilters);
  }
  if (seccomp_from_profile(profile_fd, &c->filters[0], e) < 0) return -1;
  c->nfilters = 1;
  c->filter_source = "profile";
  return 0;
}

void confine_release(struct confinement *c) {
  for (int i = 0; i < c->ncgroups; i++) close(c->cgroup_fds[i]);
  c->ncgroups = 0;
  if (c->cgroup2_dir >= 0) close(c->cgroup2_dir);
  c->cgroup2_dir = c->cgroup2_index = -1;
  if (c->proc_fd >= 0) close(c->proc_fd);
  c->proc_fd = -1;
  for (int i = 0; i < c->nfilters; i++) free(c->filters[i].prog.filter);
  c->nfilters = 0;
}
