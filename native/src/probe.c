/*
 * scope-probe: what `scope-engine run` starts inside a container when no other payload is given.
 * It runs in the target's namespaces as the target's user and, every period, appends a JSON line
 * about the target (state, CPU, memory, open files, sockets, children) to a report file in its
 * install directory, and prints it on stdout for `run` in the foreground. Like AppScope's library it
 * reads the dynamic configuration file /dev/shm/scope_dconf.<pid> (SCOPE_CMD_ATTACH=false: stop
 * reporting; true: resume) and unlinks it once read, and answers requests on the POSIX message
 * queues /ScopeIPCIn.<pid> and /ScopeIPCOut.<pid> that the engine creates.
 * Static, so that it runs in any container: no shell, no libc needed there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

/* Small steps, so that the dconf file and IPC requests are noticed quickly whatever the period. */
#define STEP_MS 50

static volatile sig_atomic_t stop = 0;
static void on_signal(int sig) { (void)sig; stop = 1; }

/* A probe left running for months must not fill the container's disk: past this size the report
 * becomes <report>.1 (replacing the one before) and a new one starts, as logrotate's `rotate 1`. */
#define DEFAULT_MAX_BYTES (1L << 20)

static void usage(void) {
  fprintf(stderr, "usage: scope-probe --pid PID --dir DIR [--period-ms MS] [--count N] [--max-bytes N]\n"
                  "Started by `scope-engine run` inside a container; see `scope-engine run --help`.\n");
  exit(2);
}

static void append_report(struct probe_state *s, const char *line, int n) {
  int fd = open(s->report_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size + n > s->max_bytes) {
    char old[sizeof s->report_path + 2];
    snprintf(old, sizeof old, "%s.1", s->report_path);
    close(fd);
    fd = -1;
    if (rename(s->report_path, old) == 0) {
      fd = open(s->report_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    }
  }
  if (fd >= 0) {
    if (write(fd, line, (size_t)n) != n) { /* a full disk loses a line, not the probe */ }
    close(fd);
  }
  if (write(STDOUT_FILENO, line, (size_t)n) < 0) { /* nobody reads stdout once run --detach returned */ }
  s->reports++;
}

/* One probe per target: the dconf file and the IPC queues are per PID, and two readers would race
 * for them. The lock lives as long as this process (even past SIGKILL); the file names our PID,
 * as this namespace numbers it, for the engine to tell a running probe from a stale file. */
static int take_lock(const struct probe_state *s) {
  char path[4200], pid[32];
  snprintf(path, sizeof path, "%s/scope-probe.%d.lock", s->dir, (int)s->pid);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd < 0) {
    fprintf(stderr, "scope-probe: cannot open the lock file %s: %s\n", path, strerror(errno));
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
    fprintf(stderr, "scope-probe: another scope-probe already watches PID %d (%s)\n", (int)s->pid, path);
    return -1;
  }
  int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  if (ftruncate(fd, 0) < 0 || write(fd, pid, (size_t)n) != n) { /* the lock holds without the note */ }
  return 0; /* fd stays open, and locked, until we exit */
}

int main(int argc, char **argv) {
  struct probe_state s = {0};
  s.period_ms = 1000;
  s.max_bytes = DEFAULT_MAX_BYTES;
  s.attached = true;
  long count = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--pid") == 0) s.pid = (pid_t)atol(argv[i + 1]);
    else if (strcmp(argv[i], "--dir") == 0) s.dir = argv[i + 1];
    else if (strcmp(argv[i], "--period-ms") == 0) s.period_ms = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--count") == 0) count = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--max-bytes") == 0) s.max_bytes = atol(argv[i + 1]);
    else usage();
  }
  const char *env_period = getenv("SCOPE_PROBE_PERIOD_MS");
  if (env_period && atol(env_period) > 0) s.period_ms = atol(env_period);
  if (s.pid <= 0 || !s.dir || s.period_ms < STEP_MS || s.max_bytes <= 0) usage();
  snprintf(s.report_path, sizeof s.report_path, "%s/scope-probe.%d.jsonl", s.dir, (int)s.pid);
  if (take_lock(&s) < 0) return 3;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGHUP, on_signal);

  char line[16384];
  long since_report = s.period_ms; /* report at once on start */
  while (!stop && count != 0) {
    probe_dconf(&s);
    probe_ipc(&s);
    if (since_report >= s.period_ms) {
      since_report = 0;
      int n = probe_snapshot(&s, line, sizeof line);
      if (n < 0) break; /* the target has exited: nothing left to watch */
      if (s.attached) {
        append_report(&s, line, n);
        if (count > 0) count--;
      }
    }
    struct timespec step = {0, STEP_MS * 1000000L};
    nanosleep(&step, NULL);
    since_report += STEP_MS;
  }
  return 0;
}
