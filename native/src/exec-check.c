/*
 * scope-exec --check: what a program started in the target's container would meet there, said
 * without starting one (for `scope-engine doctor`). The helper has entered the namespaces exactly
 * as for a program, so every failure on the way is the same; here it only judges the syscalls a
 * payload that looks at the target needs, with the filters it read, and reports one "checked" line.
 */
#define _GNU_SOURCE
#include <linux/kcmp.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "confine.h"
#include "exec.h"

/*
 * The calls as such a payload makes them on the container's PID 1. Arguments matter: a filter may
 * judge them (docker's profile allows personality() for some values only); pointers are 0 because
 * a filter cannot follow them.
 */
static const struct {
  const char *name;
  int nr;
  uint64_t args[6];
} CALLS[] = {
  {"ptrace", SYS_ptrace, {PTRACE_SEIZE, 1, 0, 0, 0, 0}},
  {"process_vm_readv", SYS_process_vm_readv, {1, 0, 1, 0, 1, 0}},
  {"process_vm_writev", SYS_process_vm_writev, {1, 0, 1, 0, 1, 0}},
  {"kcmp", SYS_kcmp, {1, 1, KCMP_VM, 0, 0, 0}},
};

void report_check(const struct exec_opts *o, const struct confinement *c) {
  char detail[200];
  int n = snprintf(detail, sizeof detail, "source=%s filters=%d", c->filter_source, c->nfilters);
  for (size_t i = 0; i < sizeof CALLS / sizeof *CALLS && n > 0 && (size_t)n < sizeof detail; i++) {
    char action[32];
    seccomp_action_name(seccomp_evaluate(c, CALLS[i].nr, CALLS[i].args), action, sizeof action);
    n += snprintf(detail + n, sizeof detail - (size_t)n, " %s=%s", CALLS[i].name, action);
  }
  report(o, "checked", "", 0, c->ncgroups, detail);
}
