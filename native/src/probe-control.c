/* How the engine steers scope-probe: the dynamic configuration file and the IPC message queues,
 * both as AppScope's CLI and library use them. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

void probe_dconf(struct probe_state *s) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/dev/shm/scope_dconf.%d", (int)s->pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  /* Read, then removed: the engine waits for the file to go as the sign it was applied. */
  unlink(path);
  if (n <= 0) return;
  buf[n] = 0;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    if (strcmp(line, "SCOPE_CMD_ATTACH=false") == 0) s->attached = false;
    else if (strcmp(line, "SCOPE_CMD_ATTACH=true") == 0) s->attached = true;
  }
}

/* A message is a JSON header, a NUL, the data, a NUL: {"req":0,"uniq":N,"remain":B} then the
 * request; the answer's header is {"status":200,"uniq":N,"remain":B}. */
void probe_ipc(struct probe_state *s) {
  char in_name[64], out_name[64];
  snprintf(in_name, sizeof in_name, "/ScopeIPCIn.%d", (int)s->pid);
  snprintf(out_name, sizeof out_name, "/ScopeIPCOut.%d", (int)s->pid);
  mqd_t in = mq_open(in_name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (in == (mqd_t)-1) return;
  struct mq_attr attr;
  char msg[8192];
  if (mq_getattr(in, &attr) < 0 || attr.mq_msgsize > (long)sizeof msg) { mq_close(in); return; }
  ssize_t n = mq_receive(in, msg, sizeof msg, NULL);
  mq_close(in);
  if (n <= 0) return;
  msg[n < (ssize_t)sizeof msg ? n : (ssize_t)sizeof msg - 1] = 0;
  long uniq = 0;
  const char *u = strstr(msg, "\"uniq\":");
  if (u) uniq = atol(u + 7);
  const char *data = msg + strlen(msg) + 1;
  if (data >= msg + n) data = "";
  s->ipc_requests++;

  char body[5120];
  int status = 200;
  if (strstr(data, "\"status\"")) {
    snprintf(body, sizeof body,
             "{\"probe\":\"scope-probe\",\"version\":\"%s\",\"pid\":%d,\"attached\":%s,\"period_ms\":%ld,"
             "\"reports\":%lu,\"ipc_requests\":%lu,\"report_file\":\"%s\"}",
             PROBE_VERSION, (int)s->pid, s->attached ? "true" : "false", s->period_ms, s->reports, s->ipc_requests,
             s->report_path);
  } else {
    status = 400;
    snprintf(body, sizeof body, "{\"error\":\"unknown request\"}");
  }
  char reply[8192];
  int hlen = snprintf(reply, sizeof reply, "{\"status\":%d,\"uniq\":%ld,\"remain\":%zu}", status, uniq,
                      strlen(body) + 1);
  size_t total = (size_t)hlen + 1 + strlen(body) + 1;
  memcpy(reply + hlen + 1, body, strlen(body) + 1);
  mqd_t out = mq_open(out_name, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (out == (mqd_t)-1) return;
  mq_send(out, reply, total, 0);
  mq_close(out);
}
