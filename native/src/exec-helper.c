/*
 * scope-exec: the small helper scope-engine starts with child_process to run a program inside a
 * container (as node-pty ships spawn-helper). It exists because Node is multi-threaded: setns into
 * a mount or user namespace needs a single-threaded caller, and joining a PID namespace only affects
 * children, so the program must be forked after the join. The engine gets stdio, exit status and
 * signals of this process exactly as for any child, and a JSON line per event on --report-fd.
 *
 * Order: everything that must be seen from the host is opened first (a host binary, the pty, the
 * target's root); then one setns(pidfd, all) joins every namespace atomically, the kernel ordering
 * the user namespace itself (with a per-namespace fallback for kernels before 5.8); then fork; the
 * child takes the credentials, the root and working directory, and execs; the parent forwards
 * signals and hands the child's exit status (code or signal) on as its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "syscalls.h"

extern char **environ;

/* Exit statuses of the helper's own failures, as docker exec uses them. */
enum { EXIT_SETUP = 125, EXIT_CANNOT_RUN = 126, EXIT_NOT_FOUND = 127 };

static const int FORWARDED[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
static volatile pid_t child_pid = 0;

static void forward(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
}

static void die(const struct exec_opts *o, const char *stage, int err, int status) {
  report(o, "error", stage, err, 0);
  /* With a report descriptor the engine words the error; alone, we do. */
  if (o->report_fd < 0) fprintf(stderr, "scope-exec: %s: %s\n", stage, strerror(err));
  _exit(status);
}

/* Kernels before 5.8 only join through /proc/PID/ns/ files. Open them all first (the PID could
 * be reused once we are inside), then join in two passes as nsenter does: the others first, then
 * the user namespace and whatever needed its capabilities. */
static int join_by_files(const struct exec_opts *o) {
  static const struct { int flag; const char *name; } all[] = {
    {CLONE_NEWUSER, "user"}, {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWIPC, "ipc"}, {CLONE_NEWUTS, "uts"},
    {CLONE_NEWNET, "net"}, {CLONE_NEWPID, "pid"}, {CLONE_NEWNS, "mnt"}, {CLONE_NEWTIME, "time"},
  };
  enum { N = sizeof all / sizeof *all };
  int fds[N];
  for (int i = 0; i < N; i++) {
    fds[i] = -1;
    if (!(o->ns_flags & all[i].flag)) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)o->pid, all[i].name);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) return -1;
  }
  /* The files must belong to the process the pidfd pins, not to a successor with its PID. */
  if (sys_pidfd_send_signal(o->pidfd, 0) < 0) return -1;
  int err = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < N; i++) {
      if (fds[i] < 0 || (pass == 0 && all[i].flag == CLONE_NEWUSER)) continue;
      if (setns(fds[i], all[i].flag) == 0 || pass == 1) {
        if (pass == 1 && errno) err = err ? err : errno;
        close(fds[i]);
        fds[i] = -1;
      }
      errno = 0;
    }
  }
  if (err) errno = err;
  return err ? -1 : 0;
}

static int join(const struct exec_opts *o) {
  if (!o->ns_flags) return 0;
  if (setns(o->pidfd, o->ns_flags) == 0) return 0;
  if (errno != EINVAL) return -1;
  return join_by_files(o);
}

/* Supplementary groups cannot be set in a user namespace whose setgroups is "deny" (rootless
 * runtimes); there, the single group the program asked for is already its gid. */
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
  return strncmp(state, "deny", 4) == 0 ? 0 : -1;
}

static void run_child(const struct exec_opts *o, int host_fd, int root_fd, int slave) {
  for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) signal(FORWARDED[i], SIG_DFL);
  signal(SIGPIPE, SIG_DFL); /* an ignored signal would stay ignored across exec */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (slave >= 0) {
    if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) die(o, "pty", errno, EXIT_SETUP);
    for (int fd = 0; fd < 3; fd++) dup2(slave, fd);
    if (slave > 2) close(slave);
  }
  /* The target's root, as it sees it: for a chrooted target that is not its namespace's root. */
  if (root_fd >= 0 && (fchdir(root_fd) < 0 || chroot(".") < 0)) die(o, "chroot", errno, EXIT_SETUP);
  if (o->set_ids) {
    if (set_groups(o) < 0) die(o, "setgroups", errno, EXIT_SETUP);
    if (setgid(o->gid) < 0) die(o, "setgid", errno, EXIT_SETUP);
    if (setuid(o->uid) < 0) die(o, "setuid", errno, EXIT_SETUP);
  }
  if (chdir(o->cwd) < 0) die(o, "chdir", errno, EXIT_SETUP);
  if (host_fd >= 0) syscall(SYS_execveat, host_fd, "", o->argv, environ, AT_EMPTY_PATH);
  else execvp(o->argv[0], o->argv);
  int err = errno;
  report(o, "error", "exec", err, 0);
  if (o->report_fd < 0) fprintf(stderr, "scope-exec: %s: %s\n", o->argv[0], strerror(err));
  _exit(err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
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
  fcntl(o.pidfd, F_SETFD, FD_CLOEXEC);
  if (o.report_fd >= 0) fcntl(o.report_fd, F_SETFD, FD_CLOEXEC);
  /* The engine may be gone when we report (run --detach): a closed report pipe is not our death. */
  signal(SIGPIPE, SIG_IGN);
  pid_t engine = getppid();
  if (!o.keep) {
    /* If the engine dies, the program hears SIGHUP (through our forwarding), as from a closed terminal. */
    prctl(PR_SET_PDEATHSIG, SIGHUP);
    if (getppid() != engine) die(&o, "engine exited", ESRCH, EXIT_SETUP);
  }

  int host_fd = -1, root_fd = -1, master = -1, slave = -1;
  if (o.host_binary) {
    host_fd = open(o.argv[0], O_PATH | O_CLOEXEC);
    if (host_fd < 0) die(&o, "open host binary", errno, EXIT_NOT_FOUND);
  }
  if (o.tty && (master = open_pty(&slave)) < 0) die(&o, "open pty", errno, EXIT_SETUP);
  if (o.ns_flags & CLONE_NEWNS) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/root", (int)o.pid);
    root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) die(&o, "open target root", errno, EXIT_SETUP);
  }
  /* Everything above named the pinned process only if it is still alive now. */
  if (sys_pidfd_send_signal(o.pidfd, 0) < 0) die(&o, "target", errno, EXIT_SETUP);
  if (join(&o) < 0) die(&o, "setns", errno, EXIT_SETUP);

  sigset_t forwarded, old;
  sigemptyset(&forwarded);
  for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) sigaddset(&forwarded, FORWARDED[i]);
  sigprocmask(SIG_BLOCK, &forwarded, &old);
  pid_t pid = fork();
  if (pid < 0) die(&o, "fork", errno, EXIT_SETUP);
  if (pid == 0) {
    if (master >= 0) close(master);
    run_child(&o, host_fd, root_fd, slave);
  }
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
  report(&o, "started", "", 0, (long)pid);
  int status = master >= 0 ? relay_pty(master, pid) : wait_child(pid);
  if (status < 0) die(&o, "waitpid", errno, EXIT_SETUP);
  exit_like(status);
}
