#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "namespaces.h"

static void usage(const char *why) {
  fprintf(stderr,
          "scope-exec: %s\n"
          "usage: scope-exec --pidfd N --pid N [--ns mnt,pid,...] [--uid N --gid N [--groups a,b]]\n"
          "                  [--cwd DIR] [--exec-file PATH] [--tty] [--keep] [--privileged] [--report-fd N]\n"
          "                  [--env-fd N] [--seccomp-fd N] [--no-caps] -- PROGRAM [ARGS...]\n"
          "       scope-exec --check --pidfd N --pid N [--ns ...] [--uid N --gid N] [--privileged] [--report-fd N]\n"
          "                  [--seccomp-fd N] [--no-caps]\n"
          "With --check it enters the container as for a program, runs none, and reports on --report-fd what one\n"
          "would meet there: the cgroups it would join and the seccomp verdicts on ptrace and its relatives.\n"
          "It is started by scope-engine, which pins the target with a pidfd; run `scope-engine exec --help`.\n",
          why);
  exit(2);
}

static long number(const char *s, const char *what) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a non-negative number, not \"%s\"", what, s);
    usage(msg);
  }
  return v;
}

static int ns_flags(char *list) {
  int flags = 0;
  if (!list[0] || strspn(list, ",") == strlen(list)) usage("--ns names no namespace");
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    int flag = scope_namespace_flag(tok);
    if (!flag) usage("unknown namespace in --ns");
    flags |= flag;
  }
  return flags;
}

void parse_exec_args(int argc, char **argv, struct exec_opts *o) {
  memset(o, 0, sizeof *o);
  o->pidfd = -1;
  o->report_fd = -1;
  o->env_fd = -1;
  o->seccomp_fd = -1;
  o->cwd = "/";
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--") == 0) { i++; break; }
    if (strcmp(a, "--tty") == 0) { o->tty = true; continue; }
    if (strcmp(a, "--keep") == 0) { o->keep = true; continue; }
    if (strcmp(a, "--privileged") == 0) { o->privileged = true; continue; }
    if (strcmp(a, "--no-caps") == 0) { o->no_caps = true; continue; }
    if (strcmp(a, "--check") == 0) { o->check = true; continue; }
    if (!v) usage("an option lacks its value");
    i++;
    if (strcmp(a, "--pidfd") == 0) o->pidfd = (int)number(v, "--pidfd");
    else if (strcmp(a, "--pid") == 0) o->pid = (pid_t)number(v, "--pid");
    else if (strcmp(a, "--ns") == 0) {
      /* strtok writes into what it splits: a copy, not the process's own argv. */
      char *copy = strdup(v);
      if (!copy) usage("out of memory");
      o->ns_flags = ns_flags(copy);
      free(copy);
    }
    else if (strcmp(a, "--uid") == 0) { o->uid = (uid_t)number(v, "--uid"); o->set_ids = true; }
    else if (strcmp(a, "--gid") == 0) { o->gid = (gid_t)number(v, "--gid"); o->set_ids = true; }
    else if (strcmp(a, "--cwd") == 0) o->cwd = v;
    else if (strcmp(a, "--exec-file") == 0) o->exec_file = v;
    else if (strcmp(a, "--report-fd") == 0) o->report_fd = (int)number(v, "--report-fd");
    else if (strcmp(a, "--env-fd") == 0) o->env_fd = (int)number(v, "--env-fd");
    else if (strcmp(a, "--seccomp-fd") == 0) o->seccomp_fd = (int)number(v, "--seccomp-fd");
    else if (strcmp(a, "--groups") == 0) {
      /* Given, even empty ("" is no supplementary group at all, as the target may have). */
      o->groups_given = true;
      char *copy = strdup(v);
      if (!copy) usage("out of memory");
      for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        if (o->ngroups == MAX_GROUPS) usage("too many --groups");
        o->groups[o->ngroups++] = (gid_t)number(tok, "--groups");
      }
      free(copy);
    } else usage("unknown option");
  }
  if (o->pidfd < 0 || o->pid <= 0) usage("--pidfd and --pid are required");
  if (o->check) {
    /* A check starts nothing: what concerns only a program would be asked for and silently not done. */
    if (i < argc) usage("--check runs no program");
    if (o->tty || o->exec_file) usage("--check takes no --tty or --exec-file");
  } else if (i >= argc) {
    usage("no program given after --");
  }
  o->argv = argv + i;
  if (o->set_ids && !o->groups_given) o->groups[o->ngroups++] = o->gid;
}

void report(const struct exec_opts *o, const char *event, const char *stage, int err, long value, const char *detail) {
  if (o->report_fd < 0) return;
  /* The detail may hold a path the container chose: only plain characters reach the engine. */
  char safe[200];
  size_t k = 0;
  for (const char *p = detail ? detail : ""; *p && k < sizeof safe - 1; p++) {
    safe[k++] = (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') ? *p : '?';
  }
  safe[k] = 0;
  char line[512];
  int n = snprintf(line, sizeof line,
                   "{\"event\":\"%s\",\"stage\":\"%s\",\"errno\":%d,\"code\":\"%s\",\"value\":%ld,\"detail\":\"%s\"}\n",
                   event, stage, err, err ? strerrorname_np(err) : "", value, safe);
  if (n > 0 && write(o->report_fd, line, (size_t)n) < 0) { /* the engine is gone; nothing to tell */ }
}
