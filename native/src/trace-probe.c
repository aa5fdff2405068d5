/*
 * scope-trace-probe: tries, for real, what `scope-engine doctor` predicts without trying: whether a
 * process started in a container may read another's memory (process_vm_readv) and trace it (ptrace).
 * The engine runs it inside through its exec path, with the confinement a payload would get, and
 * compares its one JSON line with the verdicts of `scope-exec --check`.
 * Static, so that it runs in any container: no shell, no libc needed there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

/* Where to read when the target's maps cannot be read: an address below which nothing is mapped by default
 * (vm.mmap_min_addr), and which therefore is most likely unmapped too. */
#define FALLBACK_ADDRESS 0x10000UL

struct outcome {
  bool ok;
  int err; /* errno of the call, 0 when it succeeded */
};

static void usage(void) {
  fprintf(stderr, "usage: scope-trace-probe PID\n"
                  "Tries process_vm_readv and ptrace on PID and prints the outcome as one JSON line.\n");
  exit(2);
}

/* The start of the first mapping in /proc/PID/maps, or FALLBACK_ADDRESS when it cannot be read. */
static unsigned long first_mapping(pid_t pid) {
  char path[64], line[128];
  snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FALLBACK_ADDRESS;
  ssize_t n = read(fd, line, sizeof line - 1);
  close(fd);
  if (n <= 0) return FALLBACK_ADDRESS;
  line[n] = 0;
  char *end;
  unsigned long start = strtoul(line, &end, 16);
  return end != line && *end == '-' ? start : FALLBACK_ADDRESS;
}

/*
 * One byte of the target's memory. The kernel checks whether we may access the target (mm_access, with
 * PTRACE_MODE_ATTACH_REALCREDS) before it touches the address, so EFAULT, an address it could not
 * read, still means access was granted: that is all this asks.
 */
static struct outcome try_read(pid_t pid) {
  char byte;
  struct iovec local = {.iov_base = &byte, .iov_len = 1};
  struct iovec remote = {.iov_base = (void *)first_mapping(pid), .iov_len = 1};
  ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  int err = r < 0 ? errno : 0;
  return (struct outcome){.ok = r == 1 || err == EFAULT, .err = err};
}

/*
 * PTRACE_SEIZE attaches without stopping the target, so it is not disturbed. No PTRACE_DETACH: the
 * kernel detaches a tracer's tracees when the tracer exits, which we do right after.
 */
static struct outcome try_trace(pid_t pid) {
  long r = ptrace(PTRACE_SEIZE, pid, 0, 0);
  int err = r < 0 ? errno : 0;
  return (struct outcome){.ok = r == 0, .err = err};
}

static const char *errno_name(int err) {
  static char unknown[24];
  if (!err) return "";
  const char *name = strerrorname_np(err);
  if (name) return name;
  snprintf(unknown, sizeof unknown, "errno %d", err);
  return unknown;
}

int main(int argc, char **argv) {
  if (argc != 2) usage();
  char *end;
  errno = 0;
  long pid = strtol(argv[1], &end, 10);
  if (errno || *end || end == argv[1] || pid <= 0 || pid > 0x7fffffff) usage();
  /* The read first: attaching gives the target a tracer, and the read must find it as a payload would. */
  struct outcome read = try_read((pid_t)pid);
  struct outcome trace = try_trace((pid_t)pid);
  printf("{\"pid\":%ld,\"process_vm_readv\":{\"ok\":%s,\"errno\":\"%s\"},\"ptrace\":{\"ok\":%s,\"errno\":\"%s\"}}\n",
         pid, read.ok ? "true" : "false", errno_name(read.err), trace.ok ? "true" : "false", errno_name(trace.err));
  return fflush(stdout) == 0 ? 0 : 1;
}
