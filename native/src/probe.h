/* scope-probe: the built-in payload. See probe.c. */
#ifndef SCOPE_PROBE_H
#define SCOPE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PROBE_VERSION "1"

struct probe_state {
  pid_t pid;              /* the target, as this PID namespace numbers it */
  const char *dir;        /* where the report file is */
  char report_path[4096];
  long period_ms;
  long max_bytes;         /* the report's size before it is rotated */
  bool attached;          /* false between a detach and a reattach */
  unsigned long reports;  /* JSON lines written */
  unsigned long ipc_requests;
};

/* Appends one JSON line describing the target to `out` (at most `size` bytes); returns its length,
 * or -1 once the target is gone. */
int probe_snapshot(const struct probe_state *s, char *out, size_t size);

/* Reads and removes /dev/shm/scope_dconf.<pid> if it is there; applies SCOPE_CMD_ATTACH. */
void probe_dconf(struct probe_state *s);

/* Answers one request waiting on /ScopeIPCIn.<pid>, if the engine has created the queues. */
void probe_ipc(struct probe_state *s);

#endif
