/*
 * Test harness for native/src/seccomp-eval.c (compiled by seccomp-eval.test.ts): each line of stdin is
 * one case, "NR A0 A1 A2 A3 A4 A5 | CODE JT JF K, ... [| CODE JT JF K, ...]": a system call and the
 * filters it meets, oldest first. For each it prints our verdict and the kernel's, which it gets by
 * installing the same filters in a forked child and making the call there:
 *   <our ret, hex> <our action name> kernel=<refused | errno:N | enosys | signal:N>
 * The call must be one that does nothing when allowed (a number no syscall has): the kernel then
 * answers ENOSYS, so what the filters decided is all that is seen. Every filter but the newest must
 * allow seccomp() itself, or the ones after it could not be installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "confine.h"

enum { MAX_CASE_INSNS = 4200 }; /* past BPF_MAXINSNS, to see a program too long refused */

/*
 * The child's answer, in memory shared with the parent: once its filters are in, it may be allowed no
 * system call at all (not even exit), so it writes what it saw here and ends itself with a trap, which
 * needs none.
 */
struct answer {
  int done;
  int refused; /* the kernel refused a filter */
  long ret;    /* the call's return value */
  int err;     /* its errno */
};

static void kernel_verdict(const struct confinement *c, int nr, const uint64_t args[6], char *out, size_t n) {
  volatile struct answer *answer =
      mmap(NULL, sizeof *answer, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (answer == MAP_FAILED) {
    snprintf(out, n, "harness-error");
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    /* Killed by SIGSYS, or by its own trap, is an outcome here, not a crash: no core file of it. */
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0 ||
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      _exit(1);
    for (int i = 0; i < c->nfilters && !answer->refused; i++) {
      if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &c->filters[i].prog) < 0) {
        answer->refused = 1;
        answer->err = errno;
      }
    }
    if (!answer->refused) {
      answer->ret = syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
      answer->err = errno;
    }
    answer->done = 1;
    __builtin_trap();
  }
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) snprintf(out, n, "harness-error");
  else if (answer->done && answer->refused) snprintf(out, n, answer->err == EINVAL ? "refused" : "refused:%d",
                                                     answer->err);
  else if (answer->done && answer->ret >= 0) snprintf(out, n, "succeeded");
  else if (answer->done) snprintf(out, n, answer->err == ENOSYS ? "enosys" : "errno:%d", answer->err);
  else if (WIFSIGNALED(status)) snprintf(out, n, "signal:%d", WTERMSIG(status));
  else snprintf(out, n, "exit:%d", WEXITSTATUS(status));
  munmap((void *)answer, sizeof *answer);
}

/* Reads "CODE JT JF K, ..." up to '|' or the end into a new filter of *c. */
static char *parse_filter(char *p, struct confinement *c) {
  struct sock_filter *insns = calloc(MAX_CASE_INSNS, sizeof *insns);
  unsigned short len = 0;
  while (*p && *p != '|' && *p != '\n' && len < MAX_CASE_INSNS) {
    char *end;
    insns[len].code = (uint16_t)strtoul(p, &end, 0);
    insns[len].jt = (uint8_t)strtoul(end, &end, 0);
    insns[len].jf = (uint8_t)strtoul(end, &end, 0);
    insns[len].k = (uint32_t)strtoul(end, &end, 0);
    len++;
    p = end + strspn(end, ", ");
  }
  c->filters[c->nfilters++].prog = (struct sock_fprog){.len = len, .filter = insns};
  return p;
}

int main(void) {
  static char line[1 << 18];
  while (fgets(line, sizeof line, stdin)) {
    struct confinement c;
    memset(&c, 0, sizeof c);
    char *p = line;
    int nr = (int)strtol(p, &p, 0);
    uint64_t args[6];
    for (int i = 0; i < 6; i++) args[i] = strtoull(p, &p, 0);
    while ((p = strchr(p, '|')) && c.nfilters < MAX_FILTERS) p = parse_filter(p + 1 + strspn(p + 1, " "), &c);
    uint32_t ret = seccomp_evaluate(&c, nr, args);
    char name[32], kernel[32];
    seccomp_action_name(ret, name, sizeof name);
    kernel_verdict(&c, nr, args, kernel, sizeof kernel);
    printf("%08x %s kernel=%s\n", ret, name, kernel);
    fflush(stdout);
    for (int i = 0; i < c.nfilters; i++) free(c.filters[i].prog.filter);
  }
  return 0;
}
