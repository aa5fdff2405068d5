#include "own_thread.h"

#include <linux/capability.h>
#include <sched.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "namespaces.h"
#include "sys_error.h"
#include "syscalls.h"

namespace scope {
namespace {

// Raises every permitted capability back into the effective set, for this thread only (capset acts
// on the calling thread; there is no glibc wrapper that would broadcast it).
void raiseCapabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) < 0) throw SysError{errno, "capget", ""};
  for (auto& d : data) d.effective = d.permitted;
  if (syscall(SYS_capset, &header, data) < 0) throw SysError{errno, "capset", ""};
}

}  // namespace

Napi::Error sysErrorToJs(Napi::Env env, int err, const std::string& syscall, const std::string& path) {
  std::string msg = syscall + (path.empty() ? "" : " " + path) + ": " + strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  const char* name = strerrorname_np(err);
  e.Set("code", Napi::String::New(env, name ? name : "EUNKNOWN"));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) e.Set("path", Napi::String::New(env, path));
  return e;
}

Napi::Promise OwnThreadJob::Start(Napi::Env env) {
  deferred_.emplace(env);
  tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                        "scope-engine own thread", 0, 1);
  Napi::Promise promise = deferred_->Promise();
  std::thread([this] { Run(); }).detach();
  return promise;
}

void OwnThreadJob::Run() {
  try {
    // A private fs_struct, so that the umask (and any chdir) is this thread's alone; umask 0 so that
    // modes come out exactly as asked.
    if (unshare(CLONE_FS) < 0) throw SysError{errno, "unshare", "CLONE_FS"};
    umask(0);
    // One call for the whole set (only namespaces a thread may join alone): a failure names every one of them.
    if (join.flags && setns(join.pidfd, join.flags) < 0) {
      int err = errno;
      char names[SCOPE_NAMESPACE_NAMES_MAX];
      throw SysError{err, "setns", scope_namespace_names(join.flags, names, sizeof names)};
    }
    if (creds.set) {
      if (sys_setgroups_thread(1, &creds.gid) < 0) throw SysError{errno, "setgroups", ""};
      sys_setfsgid(creds.gid);
      sys_setfsuid(creds.uid);
      // setfsuid reports no error; asking again with an invalid ID returns the current one.
      if ((uint32_t)sys_setfsuid((uid_t)-1) != creds.uid || (uint32_t)sys_setfsgid((gid_t)-1) != creds.gid) {
        throw SysError{EPERM, "setfsuid", ""};
      }
      // A non-zero fsuid dropped the file capabilities from the effective set; the container's root keeps them.
      if (creds.keepCaps) raiseCapabilities();
    }
    Execute();
  } catch (const SysError& e) {
    failed_ = true;
    errno_ = e.err;
    syscall_ = e.syscall;
    path_ = e.path;
  } catch (const std::exception& e) {
    failed_ = true;
    message_ = e.what();
  }
  // The callback deletes this job on the JavaScript thread, possibly before BlockingCall returns
  // here: nothing of `this` may be touched afterwards, so the function is released from a copy.
  Napi::ThreadSafeFunction tsfn = tsfn_;
  tsfn.BlockingCall(this, [](Napi::Env env, Napi::Function, OwnThreadJob* job) {
    job->Settle(env);
    delete job;
  });
  tsfn.Release();
}

void OwnThreadJob::Settle(Napi::Env env) {
  Napi::HandleScope scope(env);
  if (!failed_) {
    try {
      deferred_->Resolve(Result(env));
    } catch (const Napi::Error& e) {
      deferred_->Reject(e.Value());
    }
  } else if (!message_.empty()) {
    deferred_->Reject(Napi::Error::New(env, message_).Value());
  } else {
    deferred_->Reject(sysErrorToJs(env, errno_, syscall_, path_).Value());
  }
}

}  // namespace scope
