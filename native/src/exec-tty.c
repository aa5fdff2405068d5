/* The pseudo-terminal of `scope-engine exec --tty`: opened on the host before the namespaces are
 * joined, the slave becomes the program's controlling terminal, and this process copies bytes
 * between its own stdio and the master, as `docker exec -it` does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "exec.h"

static volatile sig_atomic_t winch = 0;
static void on_winch(int sig) { (void)sig; winch = 1; }

static void copy_winsize(int master) {
  struct winsize ws;
  if (isatty(STDIN_FILENO) && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
}

int open_pty(int *slave) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return -1;
  char name[128];
  if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0) goto fail;
  *slave = open(name, O_RDWR | O_NOCTTY);
  if (*slave < 0) goto fail;
  copy_winsize(master);
  return master;
fail:
  close(master);
  return -1;
}

static int write_all(int fd, const char *buf, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, (size_t)n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    buf += w;
    n -= w;
  }
  return 0;
}

int relay_pty(int master, pid_t child) {
  struct termios saved;
  int raw = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_winch;
  sigaction(SIGWINCH, &sa, NULL);
  char buf[8192];
  int stdin_open = 1;
  for (;;) {
    if (winch) { winch = 0; copy_winsize(master); }
    struct pollfd fds[2] = {{master, POLLIN, 0}, {STDIN_FILENO, stdin_open ? POLLIN : 0, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0 && errno != EINTR) break; /* EIO: every slave descriptor is closed */
      if (n > 0 && write_all(STDOUT_FILENO, buf, n) < 0) break;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0) stdin_open = 0;
      else if (write_all(master, buf, n) < 0) break;
    }
  }
  if (raw) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  close(master);
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}
