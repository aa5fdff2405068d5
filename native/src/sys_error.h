// A failed system call, as the native parts throw it: the addon turns it into a JavaScript Error with
// Node's usual code, errno, syscall and path (sysErrorToJs), scope-fs into its "error" answer.
#pragma once

#include <string>

namespace scope {

struct SysError {
  int err;              // errno, saved right after the call that failed
  std::string syscall;  // which call
  std::string path;     // what it acted on (a path, a queue, a namespace), or ""
};

}  // namespace scope
