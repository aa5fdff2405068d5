/*
 * scope-plugin-launch ENGINE_PID PROGRAM [ARGS...]: execs PROGRAM, a plugin, so that the kernel kills
 * it with SIGKILL when the engine dies, even by SIGKILL. Node cannot run code between fork and exec,
 * and go-plugin's plugins only stop when asked (an SDK plugin also watches its stdin; a Go one does
 * not), so without this a killed engine would leave its plugins running for ever.
 *
 * PR_SET_PDEATHSIG survives execve (for a program that is not set-user-ID) and fires when the thread
 * that forked us exits; libuv forks on Node's main thread, which lives as long as the engine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: scope-plugin-launch ENGINE_PID PROGRAM [ARGS...]\n");
    return 2;
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    fprintf(stderr, "scope-plugin-launch: prctl(PR_SET_PDEATHSIG): %s\n", strerror(errno));
    return 125;
  }
  /* The engine may have died between our fork and the prctl: then no signal will come. */
  if (getppid() != (pid_t)strtol(argv[1], NULL, 10)) return 125;
  execvp(argv[2], argv + 2);
  fprintf(stderr, "scope-plugin-launch: %s: %s\n", argv[2], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
