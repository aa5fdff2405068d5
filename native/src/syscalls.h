/*
 * Raw system calls glibc 2.36 does not wrap, or wraps in a way we must not use.
 * Shared by the addon (C++) and the exec helper (C).
 */
#ifndef SCOPE_SYSCALLS_H
#define SCOPE_SYSCALLS_H

#include <linux/openat2.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static inline int sys_pidfd_open(pid_t pid, unsigned int flags) {
  return (int)syscall(SYS_pidfd_open, pid, flags);
}

/* Signal 0 through a pidfd: 0 while the pinned process lives, ESRCH once it has exited. */
static inline int sys_pidfd_send_signal(int pidfd, int sig) {
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static inline int sys_openat2(int dirfd, const char *path, struct open_how *how) {
  return (int)syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

/*
 * setfsuid/setfsgid/setgroups as raw syscalls act on the calling thread only. glibc's wrappers for
 * setgroups (and seteuid, setegid) broadcast the change to every thread of the process, which in
 * Node would change the credentials of the JavaScript thread and the libuv pool too.
 */
static inline int sys_setfsuid(uid_t uid) { return (int)syscall(SYS_setfsuid, uid); }
static inline int sys_setfsgid(gid_t gid) { return (int)syscall(SYS_setfsgid, gid); }
static inline int sys_setgroups_thread(size_t n, const gid_t *groups) {
  return (int)syscall(SYS_setgroups, n, groups);
}

#endif
