/*
 * The target's seccomp filter compiled from its runtime's profile, for when the live filter cannot
 * be read: PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN in the host's user namespace, which an
 * unprivileged engine never has, even over its own rootless containers. The profile is the
 * "linux.seccomp" of the container's OCI spec, the one its runtime's own exec compiles the same
 * way (runc and crun through libseccomp), flattened by the engine (native/seccomp-profile.ts)
 * into lines this file reads without a JSON parser:
 *
 *   default ACTION ERRNO
 *   arch NAME                                    (libseccomp's names: x86_64, x86, x32, ...)
 *   flag log | spec_allow
 *   rule ACTION ERRNO SYSCALL [INDEX OP VALUE VALUE_TWO]...
 *
 * ACTION is ALLOW, ERRNO, KILL_THREAD, KILL_PROCESS, TRAP, TRACE or LOG; OP is NE, LT, LE, EQ, GE,
 * GT or MASKED_EQ. A rule's conditions all hold together (libseccomp's AND); the engine already
 * split repeated argument indexes into rules of their own, as runc does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confine.h"

enum { PROFILE_MAX = 1 << 20, MAX_CONDITIONS = 6 };

static int fail(struct confine_error *e, int err, const char *what, const char *item) {
  e->stage = "seccomp";
  e->err = err;
  snprintf(e->detail, sizeof e->detail, "the runtime's profile: %s%s%.100s", what, item ? " " : "", item ? item : "");
  return -1;
}

static int action_of(const char *name, const char *errno_text, uint32_t *out) {
  char *end;
  unsigned long n = strtoul(errno_text, &end, 10);
  if (*end || n > 4095) return -1;
  if (strcmp(name, "ALLOW") == 0) *out = SCMP_ACT_ALLOW;
  else if (strcmp(name, "ERRNO") == 0) *out = SCMP_ACT_ERRNO((uint32_t)n);
  else if (strcmp(name, "KILL_THREAD") == 0) *out = SCMP_ACT_KILL;
  else if (strcmp(name, "KILL_PROCESS") == 0) *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp(name, "TRAP") == 0) *out = SCMP_ACT_TRAP;
  else if (strcmp(name, "TRACE") == 0) *out = SCMP_ACT_TRACE((uint32_t)n);
  else if (strcmp(name, "LOG") == 0) *out = SCMP_ACT_LOG;
  else return -1;
  return 0;
}

static int op_of(const char *name, enum scmp_compare *out) {
  static const struct { const char *name; enum scmp_compare op; } ops[] = {
    {"NE", SCMP_CMP_NE}, {"LT", SCMP_CMP_LT}, {"LE", SCMP_CMP_LE}, {"EQ", SCMP_CMP_EQ},
    {"GE", SCMP_CMP_GE}, {"GT", SCMP_CMP_GT}, {"MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
    if (strcmp(name, ops[i].name) == 0) return *out = ops[i].op, 0;
  }
  return -1;
}

static int number(const char *text, uint64_t *out) {
  char *end;
  errno = 0;
  *out = strtoull(text, &end, 10);
  return *text && !*end && !errno ? 0 : -1;
}

/* One "rule" line, its words after the keyword. Unknown syscalls are skipped, as runc skips them. */
static int add_rule(scmp_filter_ctx ctx, uint32_t fallback, char **w, int n, struct confine_error *e) {
  uint32_t action;
  if (n < 3 || (n - 3) % 4 || (n - 3) / 4 > MAX_CONDITIONS || action_of(w[0], w[1], &action) < 0)
    return fail(e, EINVAL, "a bad rule for", n > 2 ? w[2] : NULL);
  int nr = seccomp_syscall_resolve_name(w[2]);
  if (nr == __NR_SCMP_ERROR || action == fallback) return 0;
  struct scmp_arg_cmp cmp[MAX_CONDITIONS];
  int ncmp = 0;
  for (int i = 3; i < n; i += 4, ncmp++) {
    uint64_t index;
    if (number(w[i], &index) < 0 || index > 5 || op_of(w[i + 1], &cmp[ncmp].op) < 0 ||
        number(w[i + 2], &cmp[ncmp].datum_a) < 0 || number(w[i + 3], &cmp[ncmp].datum_b) < 0) {
      return fail(e, EINVAL, "a bad condition for", w[2]);
    }
    cmp[ncmp].arg = (unsigned)index;
  }
  int rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)ncmp, cmp);
  return rc < 0 ? fail(e, -rc, "libseccomp refused the rule for", w[2]) : 0;
}

/* Splits a line into at most `max` words in place; the count. */
static int words(char *line, char **w, int max) {
  int n = 0;
  for (char *save = NULL, *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
    if (n == max) return max + 1;
    w[n++] = t;
  }
  return n;
}

/* The filter the profile's lines describe, as libseccomp exports it, with its flags. */
static int build(char *text, struct seccomp_copy *out, struct confine_error *e) {
  char *w[3 + 4 * MAX_CONDITIONS + 1];
  char *save = NULL, *line = strtok_r(text, "\n", &save);
  int n = line ? words(line, w, 3) : 0;
  uint32_t fallback;
  if (n != 3 || strcmp(w[0], "default") || action_of(w[1], w[2], &fallback) < 0)
    return fail(e, EINVAL, "no default action", NULL);
  scmp_filter_ctx ctx = seccomp_init(fallback);
  if (!ctx) return fail(e, ENOMEM, "libseccomp", NULL);
  int rc = 0;
  out->flags = 0;
  while (rc == 0 && (line = strtok_r(NULL, "\n", &save))) {
    n = words(line, w, (int)(sizeof w / sizeof *w) - 1);
    if (n == 2 && strcmp(w[0], "arch") == 0) {
      uint32_t arch = seccomp_arch_resolve_name(w[1]);
      int r = arch ? seccomp_arch_add(ctx, arch) : -EINVAL;
      if (r < 0 && r != -EEXIST) rc = fail(e, -r, "an architecture libseccomp lacks:", w[1]);
    } else if (n == 2 && strcmp(w[0], "flag") == 0 && strcmp(w[1], "log") == 0) {
      out->flags |= SECCOMP_FILTER_FLAG_LOG;
    } else if (n == 2 && strcmp(w[0], "flag") == 0 && strcmp(w[1], "spec_allow") == 0) {
      out->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    } else if (n >= 1 && strcmp(w[0], "rule") == 0) {
      rc = add_rule(ctx, fallback, w + 1, n - 1, e);
    } else {
      rc = fail(e, EINVAL, "a line it does not know:", n ? w[0] : "(empty)");
    }
  }
  int fd = rc == 0 ? memfd_create("scope-exec-seccomp", MFD_CLOEXEC) : -1;
  if (rc == 0 && fd < 0) rc = fail(e, errno, "memfd", NULL);
  if (rc == 0 && (rc = seccomp_export_bpf(ctx, fd)) < 0) rc = fail(e, -rc, "exporting the filter", NULL);
  seccomp_release(ctx);
  if (rc < 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  struct stat st;
  size_t len = fstat(fd, &st) == 0 ? (size_t)st.st_size / sizeof(struct sock_filter) : 0;
  struct sock_filter *insns = len && len <= BPF_MAXINSNS ? calloc(len, sizeof *insns) : NULL;
  if (!insns || pread(fd, insns, len * sizeof *insns, 0) != (ssize_t)(len * sizeof *insns)) {
    free(insns);
    close(fd);
    return fail(e, insns ? EIO : E2BIG, "the exported filter", NULL);
  }
  close(fd);
  out->prog = (struct sock_fprog){.len = (unsigned short)len, .filter = insns};
  return 0;
}

int seccomp_from_profile(int fd, struct seccomp_copy *out, struct confine_error *e) {
  char *text = malloc(PROFILE_MAX + 1);
  if (!text) return fail(e, ENOMEM, "reading", NULL);
  size_t n = 0;
  ssize_t r;
  while (n < PROFILE_MAX && ((r = read(fd, text + n, PROFILE_MAX - n)) > 0 || (r < 0 && errno == EINTR))) {
    if (r > 0) n += (size_t)r;
  }
  text[n] = 0;
  int rc = n == PROFILE_MAX ? fail(e, E2BIG, "longer than 1 MiB", NULL) : build(text, out, e);
  free(text);
  return rc;
}
