// Every path is resolved with openat2(RESOLVE_IN_ROOT) from a descriptor of the container's root, so
// `..` and absolute symlinks the container planted resolve inside it, as they would for a process
// chrooted there; magic links (/proc/self/root and kin) are refused outright. The last component is
// never resolved: a file is written unnamed (O_TMPFILE, so an interrupted write leaves nothing),
// given a temporary name and renamed into place, and rename(2) replaces a symlink rather than
// following it. What must not be replaced is not: a device, FIFO or socket at the path is refused,
// and a file that is a mount point (docker's bind-mounted /etc/resolv.conf) is written into.
#include "fileops.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/stat.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "sys_error.h"
#include "syscalls.h"

namespace scope {
namespace {

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept { reset(o.fd); o.fd = -1; return *this; }
  ~Fd() { reset(); }
  void reset(int f = -1) { if (fd >= 0) close(fd); fd = f; }
};

[[noreturn]] void fail(const char* syscall, const std::string& path, int err = errno) {
  throw SysError{err, syscall, path};
}

// "/usr//lib/./x" -> {"usr", "lib", "x"}. ".." stays: RESOLVE_IN_ROOT keeps it from climbing out.
std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (!part.empty() && part != ".") out.push_back(part);
    i = j + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, size_t n) {
  if (n == 0) return ".";
  std::string s;
  for (size_t i = 0; i < n; i++) s += (i ? "/" : "") + parts[i];
  return s;
}

std::string shown(const std::vector<std::string>& parts, size_t n) {
  return n == 0 ? "/" : "/" + join(parts, n);
}

Fd openInRoot(int rootFd, const std::string& rel, uint64_t flags, const std::string& shownPath) {
  struct open_how how {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd;
  do fd = sys_openat2(rootFd, rel.c_str(), &how); while (fd < 0 && (errno == EAGAIN || errno == EINTR));
  if (fd < 0) fail("openat2", shownPath);
  return Fd(fd);
}

Fd openDir(int rootFd, const std::vector<std::string>& parts, size_t n) {
  return openInRoot(rootFd, join(parts, n), O_PATH | O_DIRECTORY, shown(parts, n));
}

// mkdir -p of the first n components; new directories get `mode` exactly (the thread's umask is 0).
Fd makeDirs(int rootFd, const std::vector<std::string>& parts, size_t n, uint32_t mode) {
  Fd dir = openDir(rootFd, parts, 0);
  for (size_t i = 1; i <= n; i++) {
    try {
      dir = openDir(rootFd, parts, i);
      continue;
    } catch (const SysError& e) {
      if (e.err != ENOENT) throw;
    }
    if (parts[i - 1] == "..") fail("mkdirat", shown(parts, i), EINVAL);
    if (mkdirat(dir.fd, parts[i - 1].c_str(), mode) < 0 && errno != EEXIST) fail("mkdirat", shown(parts, i));
    dir = openDir(rootFd, parts, i);
  }
  return dir;
}

std::string tempName() {
  unsigned char bytes[8];
  if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes) fail("getrandom", "");
  char name[40];
  snprintf(name, sizeof name, ".scope-engine-%02x%02x%02x%02x%02x%02x%02x%02x.tmp", bytes[0], bytes[1], bytes[2],
           bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]);
  return name;
}

void writeAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write", path);
    done += (size_t)n;
  }
}

// Opens what is at `at` for reading or writing only if it is a regular file: looked at through
// O_PATH first, so that no device the container planted is ever opened (its driver's open would
// run as the engine), then reopened through the descriptor, which names the same inode.
Fd openRegular(Fd at, int flags, const std::string& path, struct stat* st) {
  if (fstat(at.fd, st) < 0) fail("fstat", path);
  if (!S_ISREG(st->st_mode)) fail("open", path, S_ISDIR(st->st_mode) ? EISDIR : EINVAL);
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", at.fd);
  Fd f(open(proc, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (f.fd < 0) fail("open", path);
  return f;
}

// The file's content, unnamed: O_TMPFILE where the filesystem has it, else under a temporary name
// (returned in `named`, for the caller to remove on failure).
Fd writeContent(int dir, const FileOp& op, const std::string& path, std::string& named) {
  Fd f(openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
  if (f.fd < 0) {
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) fail("openat", path);
    named = tempName();
    f.reset(openat(dir, named.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (f.fd < 0) fail("openat", path);
  }
  if (fchmod(f.fd, op.mode) < 0) fail("fchmod", path);
  writeAll(f.fd, op.data, path);
  if (fsync(f.fd) < 0) fail("fsync", path);
  return f;
}

// Creates the new file (or symlink) under a temporary name in `dir`, then renames it onto `base`.
// Whatever fails on the way, the temporary name is removed: nothing half-written is left behind.
void createAndRename(int dir, const std::string& base, const FileOp& op, const std::string& path) {
  std::string tmp;
  try {
    if (op.kind == FileOpKind::Symlink) {
      tmp = tempName();
      if (symlinkat(op.data.c_str(), dir, tmp.c_str()) < 0) fail("symlinkat", path);
    } else {
      Fd f = writeContent(dir, op, path, tmp);
      if (tmp.empty()) {
        // Named only now that it is whole; the magic link needs no privilege, unlike AT_EMPTY_PATH.
        tmp = tempName();
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", f.fd);
        if (linkat(AT_FDCWD, proc, dir, tmp.c_str(), AT_SYMLINK_FOLLOW) < 0) {
          int err = errno;
          tmp.clear();
          fail("linkat", path, err);
        }
      }
    }
    if (renameat(dir, tmp.c_str(), dir, base.c_str()) < 0) fail("renameat", path);
  } catch (...) {
    if (!tmp.empty()) unlinkat(dir, tmp.c_str(), 0);
    throw;
  }
  // Make the rename durable; a directory the user may not read is left to the filesystem.
  Fd d(openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd >= 0) fsync(d.fd);
}

// What is at `base` decides how a write lands: nothing, a file or a symlink is replaced; a file
// that is a mount point is written into; a device, FIFO or socket is never touched.
void write(int dir, const std::string& base, const FileOp& op, const std::string& path) {
  struct statx sx {};
  if (statx(dir, base.c_str(), AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) == 0) {
    mode_t type = sx.stx_mode & S_IFMT;
    if (type == S_IFCHR || type == S_IFBLK || type == S_IFIFO || type == S_IFSOCK) fail("write", path, EEXIST);
    if (type == S_IFREG && (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
        (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
      struct stat st;
      Fd at(openat(dir, base.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (at.fd < 0) fail("openat", path);
      Fd f = openRegular(std::move(at), O_WRONLY | O_TRUNC, path, &st);
      writeAll(f.fd, op.data, path);
      if (fsync(f.fd) < 0) fail("fsync", path);
      return;
    }
  } else if (errno != ENOENT) {
    fail("statx", path);
  }
  createAndRename(dir, base, op, path);
}

// rm -r of the directory open as `fd`, never following a symlink nor crossing into another mount.
void emptyTree(int fd, dev_t dev, const std::string& path, int depth, size_t& budget) {
  if (depth > 64) fail("unlinkat", path, ELOOP);
  int copy = dup(fd);
  if (copy < 0) fail("dup", path);
  DIR* d = fdopendir(copy);
  if (!d) {
    close(copy);
    fail("fdopendir", path);
  }
  std::vector<std::pair<std::string, bool>> entries;
  while (struct dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (budget-- == 0) {
      closedir(d);
      fail("unlinkat", path, EFBIG);
    }
    struct stat st;
    bool isDir = fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    if (isDir && st.st_dev != dev) {
      closedir(d);
      fail("unlinkat", path + "/" + e->d_name, EXDEV);
    }
    entries.emplace_back(e->d_name, isDir);
  }
  closedir(d);
  for (const auto& [name, isDir] : entries) {
    const std::string child = path + "/" + name;
    if (isDir) {
      Fd sub(openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub.fd < 0) fail("openat", child);
      emptyTree(sub.fd, dev, child, depth + 1, budget);
    }
    if (unlinkat(fd, name.c_str(), isDir ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT) fail("unlinkat", child);
  }
}

FileOpResult readFile(const FileOp& op, const std::string& path) {
  FileOpResult r;
  Fd f = openRegular(openInRoot(op.rootFd, path, O_PATH | (op.follow ? 0 : O_NOFOLLOW), path), O_RDONLY, path, &r.st);
  if ((size_t)r.st.st_size > op.maxRead) fail("read", path, EFBIG);
  r.hasStat = true;
  char buf[65536];
  for (;;) {
    ssize_t n = read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read", path);
    if (n == 0) break;
    r.data.append(buf, (size_t)n);
    if (r.data.size() > op.maxRead) fail("read", path, EFBIG);
  }
  return r;
}

}  // namespace

FileOpResult runFileOp(const FileOp& op) {
  const std::vector<std::string> parts = split(op.path);
  const std::string path = shown(parts, parts.size());
  if (op.kind == FileOpKind::Read) return readFile(op, path);
  FileOpResult r;
  if (op.kind == FileOpKind::Stat && op.follow) {
    Fd f = openInRoot(op.rootFd, join(parts, parts.size()), O_PATH, path);
    if (fstat(f.fd, &r.st) < 0) fail("fstat", path);
    r.hasStat = true;
    return r;
  }
  if (parts.empty()) {
    // The root itself: it exists, it can be stat'ed, nothing else.
    if (op.kind == FileOpKind::Mkdir) return r;
    if (op.kind != FileOpKind::Stat) fail("open", "/", EISDIR);
    if (fstatat(op.rootFd, "", &r.st, AT_EMPTY_PATH) < 0) fail("fstatat", "/");
    r.hasStat = true;
    return r;
  }
  const std::string& base = parts.back();
  if (base == "..") fail("open", path, EINVAL);
  const size_t parentN = parts.size() - 1;
  const bool makeParents = op.parents || op.kind == FileOpKind::Mkdir;
  Fd dir = makeParents ? makeDirs(op.rootFd, parts, parentN, op.dirMode) : openDir(op.rootFd, parts, parentN);
  switch (op.kind) {
    case FileOpKind::Mkdir:
      if (mkdirat(dir.fd, base.c_str(), op.mode) < 0) {
        if (errno != EEXIST) fail("mkdirat", path);
        openDir(op.rootFd, parts, parts.size());  // exists: it must be a directory
      }
      return r;
    case FileOpKind::Write:
      write(dir.fd, base, op, path);
      if (fstatat(dir.fd, base.c_str(), &r.st, AT_SYMLINK_NOFOLLOW) == 0) r.hasStat = true;
      return r;
    case FileOpKind::Symlink:
      createAndRename(dir.fd, base, op, path);
      if (fstatat(dir.fd, base.c_str(), &r.st, AT_SYMLINK_NOFOLLOW) == 0) r.hasStat = true;
      return r;
    case FileOpKind::Stat: {
      if (fstatat(dir.fd, base.c_str(), &r.st, AT_SYMLINK_NOFOLLOW) < 0) fail("fstatat", path);
      r.hasStat = true;
      if (S_ISLNK(r.st.st_mode)) {
        char target[4096];
        ssize_t n = readlinkat(dir.fd, base.c_str(), target, sizeof target);
        if (n >= 0) r.data.assign(target, (size_t)n);
      }
      return r;
    }
    case FileOpKind::Unlink:
      if (unlinkat(dir.fd, base.c_str(), 0) < 0) {
        if (errno != EISDIR) fail("unlinkat", path);
        if (unlinkat(dir.fd, base.c_str(), AT_REMOVEDIR) < 0) fail("unlinkat", path);
      }
      return r;
    case FileOpKind::RemoveTree: {
      Fd top(openat(dir.fd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (top.fd < 0) {
        if (errno == ENOENT) return r;
        fail("openat", path);
      }
      struct stat st;
      if (fstat(top.fd, &st) < 0) fail("fstat", path);
      size_t budget = 100000;
      emptyTree(top.fd, st.st_dev, path, 0, budget);
      if (unlinkat(dir.fd, base.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) fail("unlinkat", path);
      return r;
    }
    case FileOpKind::Rename: {
      const std::vector<std::string> to = split(op.data);
      if (to.empty() || to.back() == "..") fail("renameat2", shown(to, to.size()), EINVAL);
      Fd toDir = openDir(op.rootFd, to, to.size() - 1);
      if (renameat2(dir.fd, base.c_str(), toDir.fd, to.back().c_str(), op.renameFlags) < 0) fail("renameat2", path);
      return r;
    }
    case FileOpKind::Chmod: {
      Fd d(openat(dir.fd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (d.fd < 0 || fchmod(d.fd, op.mode) < 0) fail("fchmod", path);
      return r;
    }
    case FileOpKind::Read:
      break;
  }
  fail("fileop", path, EINVAL);
}

}  // namespace scope
