/*
 * Something listening where an LXC container's monitor would, speaking liblxc's command protocol,
 * for lxc-monitor.test.ts: the honest shape of a monitor (it names a child it started) and a
 * squatter's lies. In C because liblxc's abstract names are exactly as long as the name, where
 * Node pads an abstract name it listens on to the whole of sun_path: another name.
 *   fake-monitor SOCKET ANSWER
 * SOCKET: the abstract name without its NUL. ANSWER: "child" (start sleep, name it), "pid:N" (name
 * PID N), "eperm" (refuse, as a monitor refuses other users). Prints "ready PID" (the PID it names)
 * once it listens; ends, and ends its child, when its standard input closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* liblxc's struct lxc_cmd_req and struct lxc_cmd_rsp: two ints and a pointer-sized word. */
struct request { int cmd; int datalen; void *data; };
struct response { int ret; int datalen; void *data; };

#define GET_STATE 3
#define RUNNING 2

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  const char *name = argv[1], *answer = argv[2];
  pid_t named = 0;
  if (strcmp(answer, "child") == 0) {
    named = fork();
    if (named == 0) {
      execlp("sleep", "sleep", "1000", (char *)NULL);
      _exit(127);
    }
  } else if (strncmp(answer, "pid:", 4) == 0) {
    named = (pid_t)atoi(answer + 4);
  }

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  size_t len = strlen(name);
  if (len + 1 > sizeof addr.sun_path) return 2;
  memcpy(addr.sun_path + 1, name, len);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&addr, offsetof(struct sockaddr_un, sun_path) + 1 + len) < 0 ||
      listen(s, 16) < 0) {
    perror("fake-monitor: listen");
    return 1;
  }
  printf("ready %d\n", (int)named);
  fflush(stdout);

  struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = s, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (fds[0].revents) {
      char buf[64];
      if (read(0, buf, sizeof buf) <= 0) break;
    }
    if (!(fds[1].revents & POLLIN)) continue;
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) continue;
    struct request req;
    if (recv(c, &req, sizeof req, MSG_WAITALL) == (ssize_t)sizeof req) {
      struct response rsp = {0};
      if (strcmp(answer, "eperm") == 0) rsp.ret = -EPERM;
      else rsp.data = (void *)(long)(req.cmd == GET_STATE ? RUNNING : named);
      send(c, &rsp, sizeof rsp, MSG_NOSIGNAL);
    }
    close(c);
  }
  if (strcmp(answer, "child") == 0 && named > 0) kill(named, SIGKILL);
  return 0;
}
