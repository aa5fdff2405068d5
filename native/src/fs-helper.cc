// scope-fs: one file operation inside a user-namespaced container, as one of its users.
//
// A thread of the engine cannot join a user namespace, and acting for the container's root with
// the engine's host capabilities would reach files the container may not touch (a host directory
// bind-mounted in). So for a container with a user namespace the engine starts this small static
// program instead: it opens the target's root while still on the host side, joins the container's
// user namespace through the pidfd, takes the container's own IDs there (its root keeps the
// capabilities it has over its own files, and no others), and runs the same operation the thread
// would (fileops.cc).
//
// Usage: scope-fs --pidfd 3 --pid N --uid U --gid G, the request on stdin: "key value" lines, an
// empty line, then the data. The answer on stdout: "ok" or "error ERRNO SYSCALL", a line with the
// path, then for an error the system's words for it, else a line "stat MODE UID GID SIZE INO DEV
// MTIME_MS" (IDs as the container sees them), "frames L1,L2,..." or "nostat", then the data.
// With "op mq" it also joins the container's IPC namespace and does the IPC exchange (mq.cc):
// the data is the request frame, the answer's data the reply frames, their lengths on the line.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "fileops.h"
#include "mq.h"
#include "namespaces.h"
#include "sys_error.h"
#include "syscalls.h"

namespace {

using scope::FileOp;
using scope::FileOpKind;

[[noreturn]] void usage(const char* why) {
  fprintf(stderr, "scope-fs: %s\nusage: scope-fs --pidfd N --pid N --uid N --gid N < request\n"
                  "It is started by scope-engine; see native/src/fs-helper.cc.\n", why);
  exit(2);
}

long number(const char* text, const char* what) {
  char* end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || *end || end == text || v < 0) usage(what);
  return v;
}

FileOpKind kindOf(const std::string& name) {
  static const std::map<std::string, FileOpKind> kinds = {
    {"mkdir", FileOpKind::Mkdir}, {"write", FileOpKind::Write}, {"symlink", FileOpKind::Symlink},
    {"read", FileOpKind::Read}, {"stat", FileOpKind::Stat}, {"unlink", FileOpKind::Unlink},
    {"removeTree", FileOpKind::RemoveTree}, {"rename", FileOpKind::Rename}, {"chmod", FileOpKind::Chmod},
  };
  auto it = kinds.find(name);
  if (it == kinds.end()) usage("unknown op");
  return it->second;
}

// The IPC exchange's part of a request (op mq).
scope::MqExchange mq;
bool isMq = false;

FileOp readRequest() {
  FileOp op{};
  std::string line;
  while (std::getline(std::cin, line) && !line.empty()) {
    size_t sp = line.find(' ');
    std::string key = line.substr(0, sp), value = sp == std::string::npos ? "" : line.substr(sp + 1);
    if (key == "op" && value == "mq") isMq = true;
    else if (key == "op") op.kind = kindOf(value);
    else if (key == "inName") mq.inName = value;
    else if (key == "outName") mq.outName = value;
    else if (key == "timeoutMs") mq.timeoutMs = (int)number(value.c_str(), "bad timeoutMs");
    else if (key == "uniq") mq.uniq = number(value.c_str(), "bad uniq");
    else if (key == "path") op.path = value;
    else if (key == "mode") op.mode = (uint32_t)number(value.c_str(), "bad mode") & 07777;
    else if (key == "dirMode") op.dirMode = (uint32_t)number(value.c_str(), "bad dirMode") & 07777;
    else if (key == "parents") op.parents = value == "1";
    else if (key == "follow") op.follow = value == "1";
    else if (key == "maxRead") op.maxRead = (size_t)number(value.c_str(), "bad maxRead");
    else if (key == "rename") {
      op.renameFlags = value == "noreplace" ? RENAME_NOREPLACE : value == "exchange" ? RENAME_EXCHANGE : 0;
    }
    else usage("unknown request key");
  }
  op.data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  return op;
}

// Supplementary groups cannot be set where the namespace's setgroups is "deny" (rootless runtimes).
bool setgroupsAllowed() {
  char state[16] = "";
  int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  ssize_t n = read(fd, state, sizeof state - 1);
  close(fd);
  return n <= 0 || strncmp(state, "deny", 4) != 0;
}

// The target's effective capabilities, from /proc/PID/status (0 when unreadable: fail safe).
uint64_t effectiveCaps(long pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/status";
  FILE* f = fopen(path.c_str(), "re");
  if (!f) return 0;
  char line[256];
  uint64_t caps = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "CapEff:", 7) == 0) caps = strtoull(line + 7, nullptr, 16);
  }
  fclose(f);
  return caps;
}

[[noreturn]] void answerError(int err, const char* syscall, const std::string& path) {
  // The path may hold names from inside the container: one line of plain characters, whatever they were.
  std::string shown = path;
  for (char& ch : shown) {
    if ((unsigned char)ch < 0x20 || (unsigned char)ch == 0x7f) ch = '?';
  }
  printf("error %d %s\n%s\n%s\n", err, syscall, shown.c_str(), strerror(err));
  exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  int pidfd = -1;
  long pid = 0, uid = -1, gid = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--pidfd") == 0) pidfd = (int)number(argv[i + 1], "bad --pidfd");
    else if (strcmp(argv[i], "--pid") == 0) pid = number(argv[i + 1], "bad --pid");
    else if (strcmp(argv[i], "--uid") == 0) uid = number(argv[i + 1], "bad --uid");
    else if (strcmp(argv[i], "--gid") == 0) gid = number(argv[i + 1], "bad --gid");
    else usage("unknown option");
  }
  if (pidfd < 0 || pid <= 0 || uid < 0 || gid < 0) usage("--pidfd, --pid, --uid and --gid are required");
  FileOp op = readRequest();
  umask(0);  // modes are exactly what was asked for

  uint64_t targetCaps = effectiveCaps(pid);
  // The root first, on the host side; then only the user namespace: paths resolve under the root.
  std::string rootPath = "/proc/" + std::to_string(pid) + "/root";
  op.rootFd = open(rootPath.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (op.rootFd < 0) answerError(errno, "open", rootPath);
  if (sys_pidfd_send_signal(pidfd, 0) < 0) answerError(errno, "pidfd_send_signal", rootPath);
  const int joined = CLONE_NEWUSER | (isMq ? CLONE_NEWIPC : 0);
  if (setns(pidfd, joined) < 0) {
    int err = errno;
    char names[SCOPE_NAMESPACE_NAMES_MAX];
    answerError(err, "setns", scope_namespace_names(joined, names, sizeof names));
  }
  gid_t g = (gid_t)gid;
  if (setgroupsAllowed() && setgroups(1, &g) < 0) answerError(errno, "setgroups", "");
  if (setresgid(g, g, g) < 0) answerError(errno, "setresgid", std::to_string(gid));
  if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0) answerError(errno, "setresuid", std::to_string(uid));
  // We came in as the host's root, not as this namespace's, so the change of uid kept every
  // capability setns gave: the container's root gets what the target has (read before setns),
  // anyone else none, as the kernel gives them inside.
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct caps[2] = {};
  if (uid == 0) {
    caps[0].effective = caps[0].permitted = (uint32_t)targetCaps;
    caps[1].effective = caps[1].permitted = (uint32_t)(targetCaps >> 32);
  }
  if (syscall(SYS_capset, &hdr, caps) < 0) answerError(errno, "capset", "");

  if (isMq) {
    mq.messages.push_back(op.data);
    std::vector<std::string> replies;
    try {
      replies = scope::runMqExchange(mq);
    } catch (const scope::SysError& e) {
      answerError(e.err, e.syscall.c_str(), e.path);
    }
    std::string lengths;
    for (const auto& f : replies) lengths += (lengths.empty() ? "" : ",") + std::to_string(f.size());
    printf("ok\n%s\nframes %s\n", mq.inName.c_str(), lengths.c_str());
    for (const auto& f : replies) fwrite(f.data(), 1, f.size(), stdout);
    return fflush(stdout) == 0 ? 0 : 1;
  }
  scope::FileOpResult r;
  try {
    r = scope::runFileOp(op);
  } catch (const scope::SysError& e) {
    answerError(e.err, e.syscall.c_str(), e.path);
  }
  printf("ok\n%s\n", op.path.c_str());
  if (r.hasStat) {
    printf("stat %u %u %u %lld %llu %llu %lld\n", (unsigned)r.st.st_mode, (unsigned)r.st.st_uid, (unsigned)r.st.st_gid,
           (long long)r.st.st_size, (unsigned long long)r.st.st_ino, (unsigned long long)r.st.st_dev,
           (long long)r.st.st_mtim.tv_sec * 1000 + r.st.st_mtim.tv_nsec / 1000000);
  } else {
    printf("nostat\n");
  }
  fwrite(r.data.data(), 1, r.data.size(), stdout);
  return fflush(stdout) == 0 ? 0 : 1;
}
