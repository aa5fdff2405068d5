// Work that changes a thread's filesystem state or credentials runs on a thread of its own, which
// exits afterwards: never on the JavaScript thread, never on a libuv pool thread that other work reuses.
#pragma once

#include <napi.h>

#include <cstdint>
#include <optional>
#include <string>

namespace scope {

// Host IDs the own thread acts as (fsuid/fsgid and its only group). Unset: stays host root.
struct Creds {
  bool set = false;
  uint32_t uid = 0;
  uint32_t gid = 0;
  // Keep the file capabilities (DAC override, chown, fowner...) that a non-zero fsuid drops: how
  // the container's root acts, which owns its files yet overrides their permissions.
  bool keepCaps = false;
};

// Namespaces the own thread joins before taking its credentials: only those a thread of a
// multi-threaded process may join alone (not mnt, not user).
struct ThreadNamespaces {
  int pidfd = -1;
  int flags = 0;  // CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWUTS
};

class OwnThreadJob {
 public:
  virtual ~OwnThreadJob() = default;
  // Starts the thread and returns the promise that settles when the job is done.
  Napi::Promise Start(Napi::Env env);
  Creds creds;
  ThreadNamespaces join;

 protected:
  // On the own thread, after its credentials are set. Throws SysError or std::exception to reject.
  virtual void Execute() = 0;
  // On the JavaScript thread, after Execute returned: the value the promise resolves with.
  virtual Napi::Value Result(Napi::Env env) = 0;

 private:
  void Run();
  void Settle(Napi::Env env);
  std::optional<Napi::Promise::Deferred> deferred_;  // made in Start(): constructing one makes a promise
  Napi::ThreadSafeFunction tsfn_;
  bool failed_ = false;
  int errno_ = 0;
  std::string syscall_, path_, message_;
};

// A JavaScript Error with code "ENOENT" (and so on), errno, syscall and path, like Node's own.
Napi::Error sysErrorToJs(Napi::Env env, int err, const std::string& syscall, const std::string& path);

}  // namespace scope
