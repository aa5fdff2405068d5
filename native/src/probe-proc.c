/* scope-probe's view of the target, read from /proc as the target's own PID namespace shows it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "probe.h"

static int read_file(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  size_t n = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[n] = 0;
  return (int)n;
}

static long status_field(const char *status, const char *key) {
  const char *p = strstr(status, key);
  return p ? atol(p + strlen(key)) : -1;
}

static int count_dir(const char *path) {
  DIR *d = opendir(path);
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

/* Lines of a /proc/PID/net table (minus its header), and of them how many listen. TCP's LISTEN
 * state is 0A; a UDP socket bound to a port shows state 07 with no remote address. */
static void count_sockets(pid_t pid, const char *table, int *all, int *listening) {
  char path[128], line[512];
  snprintf(path, sizeof path, "/proc/%d/net/%s", (int)pid, table);
  FILE *f = fopen(path, "re");
  *all = 0;
  if (!f) return;
  if (!fgets(line, sizeof line, f)) { fclose(f); return; }
  while (fgets(line, sizeof line, f)) {
    (*all)++;
    char state[8] = "";
    if (strncmp(table, "unix", 4) == 0) {
      /* Num RefCount Protocol Flags Type St Inode: flags 00010000 means listening */
      if (strstr(line, " 00010000 ")) (*listening)++;
    } else if (sscanf(line, "%*s %*s %*s %7s", state) == 1 && strcmp(state, "0A") == 0) {
      (*listening)++;
    }
  }
  fclose(f);
}

static int children(pid_t pid, char *out, size_t size) {
  char path[128], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  DIR *d = opendir(path);
  size_t len = 0;
  out[0] = 0;
  if (!d) return 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char cpath[320];
    snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", (int)pid, e->d_name);
    if (read_file(cpath, buf, sizeof buf) <= 0) continue;
    for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n")) {
      int w = snprintf(out + len, size - len, "%s%s", len ? "," : "", tok);
      if (w < 0 || (size_t)w >= size - len) break;
      len += (size_t)w;
    }
  }
  closedir(d);
  return (int)len;
}

int probe_snapshot(const struct probe_state *s, char *out, size_t size) {
  char path[128], stat[2048], status[8192], comm[64] = "?", kids[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)s->pid);
  if (read_file(path, stat, sizeof stat) <= 0) return -1;
  snprintf(path, sizeof path, "/proc/%d/status", (int)s->pid);
  if (read_file(path, status, sizeof status) <= 0) return -1;
  /* stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so cut at the last ')'. */
  char *open_paren = strchr(stat, '('), *close_paren = strrchr(stat, ')');
  if (!open_paren || !close_paren) return -1;
  size_t clen = (size_t)(close_paren - open_paren - 1);
  if (clen >= sizeof comm) clen = sizeof comm - 1;
  memcpy(comm, open_paren + 1, clen);
  comm[clen] = 0;
  for (char *c = comm; *c; c++) if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20) *c = '?';
  char state = 0;
  unsigned long utime = 0, stime = 0;
  sscanf(close_paren + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &state, &utime, &stime);
  snprintf(path, sizeof path, "/proc/%d/fd", (int)s->pid);
  int fds = count_dir(path);
  int tcp = 0, tcp6 = 0, udp = 0, udp6 = 0, unx = 0, listening = 0;
  count_sockets(s->pid, "tcp", &tcp, &listening);
  count_sockets(s->pid, "tcp6", &tcp6, &listening);
  count_sockets(s->pid, "udp", &udp, &listening);
  count_sockets(s->pid, "udp6", &udp6, &listening);
  count_sockets(s->pid, "unix", &unx, &listening);
  children(s->pid, kids, sizeof kids);
  struct timeval now;
  gettimeofday(&now, NULL);
  return snprintf(out, size,
                  "{\"ts\":%ld%03ld,\"pid\":%d,\"comm\":\"%s\",\"state\":\"%c\",\"cpu_ticks\":%lu,\"rss_kb\":%ld,"
                  "\"threads\":%ld,\"fds\":%d,\"sockets\":{\"tcp\":%d,\"udp\":%d,\"unix\":%d,\"listening\":%d},"
                  "\"children\":[%s]}\n",
                  (long)now.tv_sec, (long)(now.tv_usec / 1000), (int)s->pid, comm, state, utime + stime,
                  status_field(status, "VmRSS:"), status_field(status, "Threads:"), fds, tcp + tcp6, udp + udp6,
                  unx, listening, kids);
}
