// File operations under a container's root directory, confined to it whatever the container planted.
#pragma once

#include <sys/stat.h>
#include <cstdint>
#include <string>

namespace scope {

enum class FileOpKind { Mkdir, Write, Symlink, Read, Stat, Unlink, RemoveTree, Rename, Chmod };

struct FileOp {
  FileOpKind kind;
  int rootFd = -1;          // /proc/PID/root opened with O_PATH: every path resolves under it
  std::string path;         // the path as the container sees it
  std::string data;         // Write: the content; Symlink: the link's target; Rename: the new path
  uint32_t mode = 0644;     // Write/Symlink: the new file's mode; Mkdir, Chmod: the directory's
  uint32_t dirMode = 0755;  // directories made on the way when `parents` is set
  bool parents = false;     // make missing parent directories, as mkdir -p does
  bool follow = false;      // Stat: describe what a symlink at the path points to (inside the root)
  size_t maxRead = 64 << 20;
  unsigned renameFlags = 0; // Rename: RENAME_NOREPLACE or RENAME_EXCHANGE
};

struct FileOpResult {
  std::string data;         // Read: the content; Stat: the target of a symlink
  struct stat st {};
  bool hasStat = false;
};

// Runs one operation on the calling thread, with its credentials. Throws SysError (sys_error.h).
FileOpResult runFileOp(const FileOp& op);

}  // namespace scope
