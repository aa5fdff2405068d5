/* The one table of Linux namespaces. See namespaces.h. */
#define _GNU_SOURCE
#include "namespaces.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "syscalls.h"

/*
 * The order is the one in which scope-exec joins them one by one, through /proc/PID/ns/ files, on
 * kernels before 5.8 (setns with a pidfd joins them all at once, and the kernel orders them
 * itself). It is nsenter's, for the same reason: the join takes two passes. The first skips the
 * user namespace: an engine with privileges on the host joins what its host capabilities allow
 * while it has them, since once in a user namespace its capabilities count only there and below,
 * and a namespace the host's user namespace owns (one the host made for the container) would be out
 * of reach. The second starts with the user namespace, so that what the first could not join (every
 * namespace, for a rootless engine) is retried with the capabilities it gives. Among the others the
 * kernel imposes no order once every file is open, as the fallback opens them all first; mnt still
 * comes late, as in nsenter, since joining it also moves our root and working directory into the
 * container. Elsewhere the order is only the one in which names are listed.
 */
const struct scope_namespace SCOPE_NAMESPACES[SCOPE_NAMESPACE_COUNT] = {
  {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
  {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID},       {"mnt", CLONE_NEWNS},  {"time", CLONE_NEWTIME},
};

int scope_namespace_flag(const char *name) {
  for (size_t i = 0; i < SCOPE_NAMESPACE_COUNT; i++) {
    if (strcmp(name, SCOPE_NAMESPACES[i].name) == 0) return SCOPE_NAMESPACES[i].flag;
  }
  return 0;
}

const char *scope_namespace_names(int flags, char *buf, size_t size) {
  size_t used = 0;
  if (size == 0) return buf;
  buf[0] = 0;
  int unknown = flags;
  for (size_t i = 0; i < SCOPE_NAMESPACE_COUNT; i++) {
    if (!(flags & SCOPE_NAMESPACES[i].flag)) continue;
    unknown &= ~SCOPE_NAMESPACES[i].flag;
    int n = snprintf(buf + used, size - used, "%s%s", used ? "," : "", SCOPE_NAMESPACES[i].name);
    if (n < 0 || (size_t)n >= size - used) return buf; /* cut short: still a string */
    used += (size_t)n;
  }
  /* A flag of no namespace (a caller's mistake) is shown rather than dropped from the message. */
  if (unknown) snprintf(buf + used, size - used, "%s%#x", used ? "," : "", (unsigned)unknown);
  return buf;
}
