// The addon's surface: a flat table of functions that check their arguments first, then act.
// Typed in ../binding.d.ts; loaded by ../index.ts.
#include <fcntl.h>
#include <napi.h>
#include <stdio.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "fileops.h"
#include "lxc-command.h"
#include "mq.h"
#include "own_thread.h"
#include "syscalls.h"

namespace scope {
namespace {

int32_t intArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  }
  return info[i].As<Napi::Number>().Int32Value();
}

uint32_t optU32(const Napi::Object& o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a number");
  return v.As<Napi::Number>().Uint32Value();
}

// {uid, gid, keepCaps} of an options object: the host IDs an own-thread job acts as.
Creds readCreds(const Napi::Object& o) {
  Creds c;
  c.set = true;
  c.uid = optU32(o, "uid", 0);
  c.gid = optU32(o, "gid", 0);
  c.keepCaps = o.Get("keepCaps").ToBoolean();
  return c;
}

// Fills a new job from the options and starts it; a bad option deletes it before any thread runs.
template <typename Job, typename Fill>
Napi::Value startJob(Napi::Env env, Fill fill) {
  auto* job = new Job();
  try {
    fill(*job);
  } catch (...) {
    delete job;
    throw;
  }
  return job->Start(env);
}

// pidfdOpen(pid): a descriptor that keeps naming this process, never a later one with the same PID.
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int pid = intArg(info, 0, "pid");
  if (pid <= 0) throw Napi::RangeError::New(info.Env(), "pid must be positive");
  int fd = sys_pidfd_open(pid, 0);
  if (fd < 0) throw sysErrorToJs(info.Env(), errno, "pidfd_open", std::to_string(pid));
  // pidfd_open sets close-on-exec itself; made sure of here, since every helper the engine spawns would
  // otherwise inherit a handle that can signal the target (spawn hands it on explicitly where wanted).
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    int err = errno;
    close(fd);
    throw sysErrorToJs(info.Env(), err, "fcntl", std::to_string(pid));
  }
  return Napi::Number::New(info.Env(), fd);
}

// pidfdAlive(fd): true while the pinned process has not exited.
Napi::Value PidfdAlive(const Napi::CallbackInfo& info) {
  int fd = intArg(info, 0, "pidfd");
  if (sys_pidfd_send_signal(fd, 0) == 0) return Napi::Boolean::New(info.Env(), true);
  if (errno == ESRCH) return Napi::Boolean::New(info.Env(), false);
  throw sysErrorToJs(info.Env(), errno, "pidfd_send_signal", "");
}

// pidfdSignal(fd, sig): signals the pinned process, never a later one with its PID.
Napi::Value PidfdSignal(const Napi::CallbackInfo& info) {
  int fd = intArg(info, 0, "pidfd");
  int sig = intArg(info, 1, "signal");
  if (sys_pidfd_send_signal(fd, sig) < 0 && errno != ESRCH) {
    throw sysErrorToJs(info.Env(), errno, "pidfd_send_signal", "");
  }
  return info.Env().Undefined();
}

// openRoot(pid): the process's root directory (its mount namespace's view), as an O_PATH descriptor.
Napi::Value OpenRoot(const Napi::CallbackInfo& info) {
  int pid = intArg(info, 0, "pid");
  std::string path = "/proc/" + std::to_string(pid) + "/root";
  int fd = open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw sysErrorToJs(info.Env(), errno, "open", path);
  return Napi::Number::New(info.Env(), fd);
}

// resolveInRoot(root, path): where `path` is, here, when resolved inside `root` as a process whose
// root `root` is would resolve it: absolute links and ".." stay inside (RESOLVE_IN_ROOT). The engine
// reads the host's files through a mount of the host's root (/hostfs), where a plain join would
// follow /hostfs/var/run -> /run into the engine container's own /run.
Napi::Value ResolveInRoot(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    throw Napi::TypeError::New(info.Env(), "resolveInRoot(root, path) takes two strings");
  }
  std::string root = info[0].As<Napi::String>();
  std::string path = info[1].As<Napi::String>();
  int rootFd = open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootFd < 0) throw sysErrorToJs(info.Env(), errno, "open", root);
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  // No magic links (/proc/self/root...): they would lead out of the root whatever RESOLVE_IN_ROOT says.
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = sys_openat2(rootFd, path.c_str(), &how);
  int err = errno;
  close(rootFd);
  if (fd < 0) throw sysErrorToJs(info.Env(), err, "openat2", path);
  // The descriptor's own path names the file as this process reaches it: under `root`.
  char buf[4096];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  err = errno;
  close(fd);
  if (n < 0) throw sysErrorToJs(info.Env(), err, "readlink", link);
  return Napi::String::New(info.Env(), std::string(buf, static_cast<size_t>(n)));
}

// userNsOwner(pid): the host UID that made the process's user namespace (0 for the host's own).
Napi::Value UserNsOwner(const Napi::CallbackInfo& info) {
  int pid = intArg(info, 0, "pid");
  std::string path = "/proc/" + std::to_string(pid) + "/ns/user";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw sysErrorToJs(info.Env(), errno, "open", path);
  uid_t owner;
  int rc = ioctl(fd, NS_GET_OWNER_UID, &owner);
  int err = errno;
  close(fd);
  if (rc < 0) throw sysErrorToJs(info.Env(), err, "ioctl NS_GET_OWNER_UID", path);
  return Napi::Number::New(info.Env(), owner);
}

// memfdOf(name, bytes): an anonymous file holding `bytes`, positioned at its start. A child reads
// it at once, where a pipe would make it wait for the event loop to write and close its end.
Napi::Value MemfdOf(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBuffer()) {
    throw Napi::TypeError::New(info.Env(), "memfdOf(name, buffer)");
  }
  std::string name = info[0].As<Napi::String>();
  auto data = info[1].As<Napi::Buffer<char>>();
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd < 0) throw sysErrorToJs(info.Env(), errno, "memfd_create", name);
  size_t done = 0;
  while (done < data.Length()) {
    ssize_t n = write(fd, data.Data() + done, data.Length() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      throw sysErrorToJs(info.Env(), err, "write", name);
    }
    done += static_cast<size_t>(n);
  }
  if (lseek(fd, 0, SEEK_SET) < 0) {
    int err = errno;
    close(fd);
    throw sysErrorToJs(info.Env(), err, "lseek", name);
  }
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = intArg(info, 0, "fd");
  if (close(fd) < 0) throw sysErrorToJs(info.Env(), errno, "close", std::to_string(fd));
  return info.Env().Undefined();
}

class FileOpJob : public OwnThreadJob {
 public:
  FileOp op;

 protected:
  void Execute() override { result_ = runFileOp(op); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    if (op.kind == FileOpKind::Read) {
      out.Set("data", Napi::Buffer<char>::Copy(env, result_.data.data(), result_.data.size()));
    }
    if (result_.hasStat) {
      const struct stat& st = result_.st;
      Napi::Object s = Napi::Object::New(env);
      s.Set("mode", Napi::Number::New(env, st.st_mode));
      s.Set("uid", Napi::Number::New(env, st.st_uid));
      s.Set("gid", Napi::Number::New(env, st.st_gid));
      s.Set("size", Napi::Number::New(env, (double)st.st_size));
      s.Set("ino", Napi::Number::New(env, (double)st.st_ino));
      s.Set("dev", Napi::Number::New(env, (double)st.st_dev));
      s.Set("mtimeMs", Napi::Number::New(env, st.st_mtim.tv_sec * 1e3 + st.st_mtim.tv_nsec / 1e6));
      if (S_ISLNK(st.st_mode)) s.Set("linkTarget", Napi::String::New(env, result_.data));
      out.Set("stat", s);
    }
    return out;
  }

 private:
  FileOpResult result_;
};

class MqJob : public OwnThreadJob {
 public:
  MqExchange exchange;

 protected:
  void Execute() override { replies_ = runMqExchange(exchange); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, replies_.size());
    for (size_t i = 0; i < replies_.size(); i++) {
      out.Set(i, Napi::Buffer<char>::Copy(env, replies_[i].data(), replies_[i].size()));
    }
    return out;
  }

 private:
  std::vector<std::string> replies_;
};

// mqExchange({pidfd, inName, outName, messages: Buffer[], uid, gid, keepCaps, timeoutMs}): a promise
// of the reply frames. Runs on a thread of its own in the target's IPC namespace.
Napi::Value MqExchangeFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "mqExchange takes an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  if (!o.Get("pidfd").IsNumber() || !o.Get("inName").IsString() || !o.Get("outName").IsString() ||
      !o.Get("messages").IsArray()) {
    throw Napi::TypeError::New(env, "mqExchange needs pidfd, inName, outName and messages");
  }
  return startJob<MqJob>(env, [&](MqJob& job) {
    job.join.pidfd = o.Get("pidfd").As<Napi::Number>().Int32Value();
    job.join.flags = CLONE_NEWIPC;
    job.exchange.inName = o.Get("inName").As<Napi::String>();
    job.exchange.outName = o.Get("outName").As<Napi::String>();
    job.exchange.timeoutMs = (int)optU32(o, "timeoutMs", 5000);
    job.exchange.uniq = (long)optU32(o, "uniq", 0);
    Napi::Array msgs = o.Get("messages").As<Napi::Array>();
    for (uint32_t i = 0; i < msgs.Length(); i++) {
      Napi::Value m = msgs.Get(i);
      if (!m.IsBuffer()) throw Napi::TypeError::New(env, "messages must be Buffers");
      auto b = m.As<Napi::Buffer<char>>();
      job.exchange.messages.emplace_back(b.Data(), b.Length());
    }
    job.creds = readCreds(o);
  });
}

FileOpKind kindOf(Napi::Env env, const std::string& name) {
  if (name == "mkdir") return FileOpKind::Mkdir;
  if (name == "write") return FileOpKind::Write;
  if (name == "symlink") return FileOpKind::Symlink;
  if (name == "read") return FileOpKind::Read;
  if (name == "stat") return FileOpKind::Stat;
  if (name == "unlink") return FileOpKind::Unlink;
  if (name == "removeTree") return FileOpKind::RemoveTree;
  if (name == "rename") return FileOpKind::Rename;
  if (name == "chmod") return FileOpKind::Chmod;
  throw Napi::TypeError::New(env, "unknown file operation: " + name);
}

// fileOp({op, rootFd, path, data?, mode?, dirMode?, parents?, follow?, uid?, gid?, keepCaps?, maxRead?, rename?}).
Napi::Value FileOpFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "fileOp takes an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  if (!o.Get("op").IsString() || !o.Get("path").IsString() || !o.Get("rootFd").IsNumber()) {
    throw Napi::TypeError::New(env, "fileOp needs op (string), path (string) and rootFd (number)");
  }
  return startJob<FileOpJob>(env, [&](FileOpJob& job) {
    job.op.kind = kindOf(env, o.Get("op").As<Napi::String>());
    job.op.rootFd = o.Get("rootFd").As<Napi::Number>().Int32Value();
    job.op.path = o.Get("path").As<Napi::String>();
    Napi::Value data = o.Get("data");
    if (data.IsBuffer()) {
      auto b = data.As<Napi::Buffer<char>>();
      job.op.data.assign(b.Data(), b.Length());
    } else if (data.IsString()) {
      job.op.data = data.As<Napi::String>().Utf8Value();
    } else if (!data.IsUndefined()) {
      throw Napi::TypeError::New(env, "data must be a Buffer or a string");
    }
    job.op.mode = optU32(o, "mode", job.op.kind == FileOpKind::Mkdir ? 0755 : 0644) & 07777;
    job.op.dirMode = optU32(o, "dirMode", 0755) & 07777;
    job.op.parents = o.Get("parents").ToBoolean();
    job.op.follow = o.Get("follow").ToBoolean();
    job.op.maxRead = optU32(o, "maxRead", 64u << 20);
    Napi::Value how = o.Get("rename");
    if (how.IsString()) {
      std::string h = how.As<Napi::String>();
      if (h != "noreplace" && h != "exchange") {
        throw Napi::TypeError::New(env, "rename must be \"noreplace\" or \"exchange\"");
      }
      job.op.renameFlags = h == "noreplace" ? RENAME_NOREPLACE : RENAME_EXCHANGE;
    }
    if (!o.Get("uid").IsUndefined() || !o.Get("gid").IsUndefined()) job.creds = readCreds(o);
  });
}

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdAlive", Napi::Function::New(env, PidfdAlive));
  exports.Set("pidfdSignal", Napi::Function::New(env, PidfdSignal));
  exports.Set("openRoot", Napi::Function::New(env, OpenRoot));
  exports.Set("resolveInRoot", Napi::Function::New(env, ResolveInRoot));
  exports.Set("userNsOwner", Napi::Function::New(env, UserNsOwner));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("memfdOf", Napi::Function::New(env, MemfdOf));
  exports.Set("fileOp", Napi::Function::New(env, FileOpFn));
  exports.Set("mqExchange", Napi::Function::New(env, MqExchangeFn));
  exports.Set("lxcCommand", Napi::Function::New(env, LxcCommandFn));
  return exports;
}

}  // namespace
}  // namespace scope

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return scope::InitAddon(env, exports); }
NODE_API_MODULE(scope_native, Init)
