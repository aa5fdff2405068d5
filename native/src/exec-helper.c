/*
 * scope-exec: the small helper scope-engine starts with child_process to run a program inside a
 * container (as node-pty ships spawn-helper). It exists because Node is multi-threaded: setns into
 * a mount or user namespace needs a single-threaded caller, and joining a PID namespace only affects
 * children, so the program must be forked after the join. The engine gets stdio, exit status and
 * signals of this process exactly as for any child, and a JSON line per event on --report-fd.
 *
 * The host side is the dangerous window: this process runs as the engine, on the host, before it
 * joins the container. So it is a static executable (no dynamic loader, so no LD_PRELOAD or
 * LD_LIBRARY_PATH can steer it), the engine starts it with an environment of its own making, and
 * the program's environment, which comes from the container, arrives on --env-fd and is only given
 * to execve inside. It is not dumpable, so nothing in the container can ptrace it or open its
 * /proc/PID/fd while it holds host descriptors.
 *
 * Order: everything that must be seen from the host is opened first (a host binary, copied into a
 * sealed memfd so the container can never write to the host's file through /proc/PID/exe; the
 * pty; the target's root; the target's confinement, see confine-read.c); then one setns(pidfd, all)
 * joins every namespace atomically, the kernel ordering the user namespace itself (with a
 * per-namespace fallback for kernels before 5.8); then fork; the child joins the target's cgroups,
 * takes the root, the confinement and the credentials (confine-apply.c), and execs. The parent
 * says "started" only once the exec has happened (a close-on-exec pipe tells it), forwards signals
 * and hands the child's exit status (code or signal) on as its own. With --check it stops once it has
 * entered and reports what a program would meet instead (exec-check.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "confine.h"
#include "exec.h"
#include "namespaces.h"
#include "syscalls.h"

extern char **environ;

/* The program's environment can be large (docker allows 1 MiB of it); more is refused. */
enum { ENV_MAX = 1 << 20, ENV_VARS_MAX = 8192 };

/* Exit statuses of the helper's own failures, as docker exec uses them. */
enum { EXIT_SETUP = 125, EXIT_CANNOT_RUN = 126, EXIT_NOT_FOUND = 127 };

static const int FORWARDED[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
static volatile pid_t child_pid = 0;

static void forward(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
}

/* Set in the child, close-on-exec: "+" on it says the exec is next, "!" that the child failed. */
static int failed_fd = -1;

static void die_detail(const struct exec_opts *o, const char *stage, int err, int status, const char *detail) {
  report(o, "error", stage, err, 0, detail);
  /* With a report descriptor the engine words the error; alone, we do. */
  if (o->report_fd < 0) {
    fprintf(stderr, "scope-exec: %s: %s%s%s\n", stage, detail, *detail ? ": " : "", strerror(err));
  }
  if (failed_fd >= 0 && write(failed_fd, "!", 1) < 0) { /* the parent is gone; nothing to tell */ }
  _exit(status);
}

static void die(const struct exec_opts *o, const char *stage, int err, int status) {
  die_detail(o, stage, err, status, "");
}

/* The program's environment, NUL-separated on `fd` until EOF, as an execve envp. */
static char **read_env(const struct exec_opts *o) {
  static char *none[] = {NULL};
  if (o->env_fd < 0) return none;
  char *buf = malloc(ENV_MAX + 1);
  size_t n = 0;
  ssize_t r;
  while (buf && n < ENV_MAX && ((r = read(o->env_fd, buf + n, ENV_MAX - n)) > 0 || (r < 0 && errno == EINTR))) {
    if (r > 0) n += (size_t)r;
  }
  if (!buf || n == ENV_MAX) die(o, "environment", buf ? E2BIG : ENOMEM, EXIT_SETUP);
  close(o->env_fd);
  buf[n] = 0;
  char **env = calloc(ENV_VARS_MAX + 1, sizeof *env);
  if (!env) die(o, "environment", ENOMEM, EXIT_SETUP);
  size_t count = 0;
  for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
    if (count == ENV_VARS_MAX) die(o, "environment", E2BIG, EXIT_SETUP);
    if (buf[i]) env[count++] = buf + i;
  }
  return env;
}

/* A host program, copied into a sealed memfd: the container sees it as /proc/PID/exe, and through
 * that link it could otherwise open and later overwrite the host's file (CVE-2019-5736). */
static int seal_host_binary(const struct exec_opts *o) {
  int src = open(o->exec_file, O_RDONLY | O_CLOEXEC);
  if (src < 0) die(o, "open host binary", errno, EXIT_NOT_FOUND);
  /* Named as the program: the kernel names the process (comm, ps) after the memfd. */
  const char *name = strrchr(o->argv[0], '/') ? strrchr(o->argv[0], '/') + 1 : o->argv[0];
  int mem = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mem < 0) die(o, "open host binary", errno, EXIT_SETUP);
  char buf[65536];
  ssize_t r;
  while ((r = read(src, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)) {
    if (r > 0 && write(mem, buf, (size_t)r) != r) die(o, "open host binary", errno, EXIT_SETUP);
  }
  if (r < 0) die(o, "open host binary", errno, EXIT_CANNOT_RUN);
  close(src);
  /* A script's interpreter would be looked up inside the container, and a close-on-exec memfd
   * cannot be handed to one: refused here, clearly, rather than "not found" later. */
  char magic[2];
  if (pread(mem, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!') {
    die_detail(o, "open host binary", ENOEXEC, EXIT_CANNOT_RUN, "a script; --host-binary runs executables");
  }
  if (fchmod(mem, 0555) < 0 ||
      fcntl(mem, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
    die(o, "open host binary", errno, EXIT_SETUP);
  }
  return mem;
}

/* Kernels before 5.8 only join through /proc/PID/ns/ files. Open them all first (the PID could
 * be reused once we are inside), then join in two passes as nsenter does, in the table's order (see
 * namespaces.c): the others first, then the user namespace and whatever needed its capabilities.
 * A failure is reported under the stage "setns", as the pidfd path's, with the namespace (and file)
 * in the detail; errno is taken right after the call that failed, before anything else can touch it. */
static void join_by_files(const struct exec_opts *o) {
  int fds[SCOPE_NAMESPACE_COUNT];
  char paths[SCOPE_NAMESPACE_COUNT][64];
  for (int i = 0; i < SCOPE_NAMESPACE_COUNT; i++) {
    fds[i] = -1;
    if (!(o->ns_flags & SCOPE_NAMESPACES[i].flag)) continue;
    snprintf(paths[i], sizeof paths[i], "/proc/%d/ns/%s", (int)o->pid, SCOPE_NAMESPACES[i].name);
    fds[i] = open(paths[i], O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) {
      int err = errno;
      char detail[96];
      snprintf(detail, sizeof detail, "opening %s", paths[i]);
      die_detail(o, "setns", err, EXIT_SETUP, detail);
    }
  }
  /* The files must belong to the process the pidfd pins, not to a successor with its PID. */
  if (sys_pidfd_send_signal(o->pidfd, 0) < 0) {
    int err = errno;
    die_detail(o, "setns", err, EXIT_SETUP, "the target, after opening its namespace files");
  }
  /* First pass: a failure here is not final, the second pass retries with the user namespace's capabilities. */
  for (int i = 0; i < SCOPE_NAMESPACE_COUNT; i++) {
    if (fds[i] < 0 || SCOPE_NAMESPACES[i].flag == CLONE_NEWUSER) continue;
    if (setns(fds[i], SCOPE_NAMESPACES[i].flag) == 0) {
      close(fds[i]);
      fds[i] = -1;
    }
  }
  /* Second pass: the user namespace (first in the table), then what the first pass left; a failure now is final. */
  for (int i = 0; i < SCOPE_NAMESPACE_COUNT; i++) {
    if (fds[i] < 0) continue;
    if (setns(fds[i], SCOPE_NAMESPACES[i].flag) < 0) {
      int err = errno;
      char detail[96];
      snprintf(detail, sizeof detail, "%s via %s", SCOPE_NAMESPACES[i].name, paths[i]);
      die_detail(o, "setns", err, EXIT_SETUP, detail);
    }
    close(fds[i]);
    fds[i] = -1;
  }
}

/* Joins every namespace of --ns, or dies naming those that could not be joined. */
static void join(const struct exec_opts *o) {
  if (!o->ns_flags) return;
  /* One call joins them all, atomically, the kernel ordering the user namespace itself (5.8+). */
  if (setns(o->pidfd, o->ns_flags) == 0) return;
  int err = errno;
  /* EINVAL: a kernel before 5.8, which takes no pidfd here, or a set it refuses as a whole (our own user
   * namespace among them): one by one through the files, which also names the one at fault. */
  if (err == EINVAL) {
    join_by_files(o);
    return;
  }
  char names[SCOPE_NAMESPACE_NAMES_MAX], detail[SCOPE_NAMESPACE_NAMES_MAX + 16];
  snprintf(detail, sizeof detail, "%s via pidfd", scope_namespace_names(o->ns_flags, names, sizeof names));
  die_detail(o, "setns", err, EXIT_SETUP, detail);
}

static void run_child(const struct exec_opts *o, const struct confinement *c, bool in_v2, char **env, int host_fd,
                      int root_fd, int slave) {
  struct confine_error e = {0};
  if (confine_join_cgroups(c, in_v2, &e) < 0 || confine_take_oom(c, &e) < 0)
    die_detail(o, e.stage, e.err, EXIT_SETUP, e.detail);
  for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) signal(FORWARDED[i], SIG_DFL);
  signal(SIGPIPE, SIG_DFL); /* an ignored signal would stay ignored across exec */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (slave >= 0) {
    if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) die(o, "pty", errno, EXIT_SETUP);
    /* The terminal as stdin, stdout and stderr: a new session's controlling terminal, as a login gets. */
    for (int fd = 0; fd < 3; fd++) {
      if (dup2(slave, fd) < 0) die(o, "pty", errno, EXIT_SETUP);
    }
    if (slave > 2) close(slave);
  }
  /* The target's root, as it sees it: for a chrooted target that is not its namespace's root. */
  if (root_fd >= 0 && (fchdir(root_fd) < 0 || chroot(".") < 0)) die(o, "chroot", errno, EXIT_SETUP);
  if (confine_apply(c, o, &e) < 0) die_detail(o, e.stage, e.err, EXIT_SETUP, e.detail);
  if (chdir(o->cwd) < 0) die(o, "chdir", errno, EXIT_SETUP);
  /* Nothing of the host's but stdio may reach the program (CVE-2024-21626). */
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) die(o, "close descriptors", errno, EXIT_SETUP);
  /* Only now the container's environment: execvp looks the program up in its PATH. */
  environ = env;
  if (write(failed_fd, "+", 1) < 0) { /* the parent is gone; the exec goes on */ }
  if (host_fd >= 0) syscall(SYS_execveat, host_fd, "", o->argv, env, AT_EMPTY_PATH);
  else execvp(o->argv[0], o->argv);
  int err = errno;
  die_detail(o, "exec", err, err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN, o->argv[0]);
}

/* Whether the child reached its exec: "+" then EOF (the pipe closes on exec). "!" is a failure it
 * reported; nothing at all is a child killed before it got there (by the container, or the OOM
 * killer once it joined the memory cgroup). */
static bool child_execed(const struct exec_opts *o, int fd) {
  char bytes[4];
  size_t n = 0;
  ssize_t r;
  while (n < sizeof bytes && ((r = read(fd, bytes + n, sizeof bytes - n)) > 0 || (r < 0 && errno == EINTR))) {
    if (r > 0) n += (size_t)r;
  }
  close(fd);
  if (memchr(bytes, '!', n)) return false;
  if (memchr(bytes, '+', n)) return true;
  report(o, "error", "before exec", ECHILD, 0, "the program's process ended before its exec");
  return false;
}

static int wait_child(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

/* The program's end becomes ours: the same exit code, or death by the same signal. */
static void exit_like(int status) {
  if (WIFEXITED(status)) exit(WEXITSTATUS(status));
  int sig = WTERMSIG(status);
  signal(sig, SIG_DFL);
  prctl(PR_SET_DUMPABLE, 0); /* no core file of the helper for the program's SIGSEGV */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
  exit(128 + sig);
}

int main(int argc, char **argv) {
  struct exec_opts o;
  parse_exec_args(argc, argv, &o);
  /* Not dumpable: no process of the container may ptrace us or open our descriptors meanwhile. */
  if (prctl(PR_SET_DUMPABLE, 0) < 0) die(&o, "prctl", errno, EXIT_SETUP);
  /* The report descriptor first: were it unusable, the failure must go to stderr, not into it. */
  if (o.report_fd >= 0 && fcntl(o.report_fd, F_SETFD, FD_CLOEXEC) < 0) {
    int err = errno;
    o.report_fd = -1;
    die(&o, "report descriptor", err, EXIT_SETUP);
  }
  /* Inherited without close-on-exec (spawn hands them on as fds): no exec may carry the pidfd or the
   * report pipe into the container, even before run_child's close_range marks every descriptor. */
  if (fcntl(o.pidfd, F_SETFD, FD_CLOEXEC) < 0) die(&o, "pidfd", errno, EXIT_SETUP);
  char **env = o.check ? NULL : read_env(&o);
  /* The engine may be gone when we report (run --detach): a closed report pipe is not our death. */
  signal(SIGPIPE, SIG_IGN);
  pid_t engine = getppid();
  if (!o.keep) {
    /* If the engine dies, the program hears SIGHUP (through our forwarding), as from a closed terminal. */
    if (prctl(PR_SET_PDEATHSIG, SIGHUP) < 0) die(&o, "prctl", errno, EXIT_SETUP);
    if (getppid() != engine) die(&o, "engine exited", ESRCH, EXIT_SETUP);
  }

  int host_fd = -1, root_fd = -1, master = -1, slave = -1;
  if (o.exec_file) host_fd = seal_host_binary(&o);
  if (o.tty && (master = open_pty(&slave)) < 0) die(&o, "open pty", errno, EXIT_SETUP);
  if (o.ns_flags & CLONE_NEWNS) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/root", (int)o.pid);
    root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) die(&o, "open target root", errno, EXIT_SETUP);
  }
  struct confinement conf;
  struct confine_error e = {0};
  int confined = confine_read(o.pid, !o.privileged, o.seccomp_fd, &conf, &e);
  if (o.seccomp_fd >= 0) close(o.seccomp_fd);
  /* A target that ended meanwhile fails the reading somewhere (its /proc files are gone): that it ended is the
   * cause to give, not the file it took with it. */
  if (confined < 0 && sys_pidfd_send_signal(o.pidfd, 0) < 0) die(&o, "target", errno, EXIT_SETUP);
  if (confined < 0) die_detail(&o, e.stage, e.err, EXIT_SETUP, e.detail);
  /* Capabilities belong to a user namespace: the target's, joined without it, would be ours to abuse. */
  if (o.no_caps) conf.inh = conf.prm = conf.eff = conf.bnd = conf.amb = 0;
  /* Everything above named the pinned process only if it is still alive now. */
  if (sys_pidfd_send_signal(o.pidfd, 0) < 0) die(&o, "target", errno, EXIT_SETUP);
  join(&o);
  if (o.check) {
    /* Entered, as a program would be: what it would meet is reported instead, and nothing is started. */
    report_check(&o, &conf);
    confine_release(&conf);
    if (root_fd >= 0) close(root_fd);
    exit(0);
  }
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0) die(&o, "pipe", errno, EXIT_SETUP);

  sigset_t forwarded, old;
  sigemptyset(&forwarded);
  for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) sigaddset(&forwarded, FORWARDED[i]);
  sigprocmask(SIG_BLOCK, &forwarded, &old);
  bool in_v2;
  pid_t pid = confine_fork(&conf, &in_v2);
  if (pid < 0) die(&o, "fork", errno, EXIT_SETUP);
  if (pid == 0) {
    if (master >= 0) close(master);
    close(sync[0]);
    failed_fd = sync[1];
    run_child(&o, &conf, in_v2, env, host_fd, root_fd, slave);
  }
  close(sync[1]);
  child_pid = pid;
  if (slave >= 0) close(slave);
  if (host_fd >= 0) close(host_fd);
  if (root_fd >= 0) close(root_fd);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) {
    if (!(o.tty && FORWARDED[i] == SIGWINCH)) sigaction(FORWARDED[i], &sa, NULL);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  /* A child that failed has reported why; its exit status (125-127) becomes ours below. */
  if (child_execed(&o, sync[0])) report(&o, "started", "", 0, (long)pid, "");
  int status = master >= 0 ? relay_pty(master, pid) : wait_child(pid);
  if (status < 0) die(&o, "waitpid", errno, EXIT_SETUP);
  exit_like(status);
}
