#include "lxc-command.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "own_thread.h"
#include "sys_error.h"

namespace scope {
namespace {

// liblxc's struct lxc_cmd_req and struct lxc_cmd_rsp (src/lxc/commands.h), laid out as its C
// compiler lays them out on this machine: two ints and a pointer-sized word. A command without
// data sends datalen 0 and a null pointer; an answer without data carries its value in the word.
struct Request {
  int cmd;
  int datalen;
  const void* data;
};
struct Response {
  int ret;
  int datalen;
  void* data;
};

// Closes the socket whatever way the exchange ends.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// A timed-out socket call fails with EAGAIN; named for what happened.
int timedOut(int err) { return err == EAGAIN || err == EWOULDBLOCK ? ETIMEDOUT : err; }

// The request goes with this process's credentials in an SCM_CREDENTIALS message, as liblxc's
// clients send it: the monitor answers only root and the user it runs as, and reads who asks here.
void sendRequest(int fd, const Request& req, const std::string& name) {
  struct ucred cred = {getpid(), getuid(), getgid()};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof cred)] = {};
  struct iovec iov = {const_cast<Request*>(&req), sizeof req};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_CREDENTIALS;
  cmsg->cmsg_len = CMSG_LEN(sizeof cred);
  memcpy(CMSG_DATA(cmsg), &cred, sizeof cred);
  ssize_t n;
  do n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw SysError{timedOut(errno), "sendmsg", name};
  if ((size_t)n != sizeof req) throw SysError{EPROTO, "sendmsg", name};
}

// The fixed-size answer. A monitor that hangs up first is a container stopping (liblxc's own
// clients take ECONNRESET so); descriptors a hostile listener might attach are discarded by the
// kernel, since no control buffer is given.
Response readResponse(int fd, const std::string& name) {
  Response rsp;
  size_t got = 0;
  while (got < sizeof rsp) {
    ssize_t n = recv(fd, reinterpret_cast<char*>(&rsp) + got, sizeof rsp - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SysError{timedOut(errno), "recv", name};
    if (n == 0) throw SysError{ECONNRESET, "recv", name};
    got += (size_t)n;
  }
  // GET_STATE and GET_INIT_PID answer in the word alone; anything more is not liblxc speaking.
  if (rsp.datalen != 0) throw SysError{EPROTO, "recv", name};
  return rsp;
}

}  // namespace

LxcAnswer runLxcCommand(const LxcCommand& c) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  // Abstract: a leading NUL, then the name, unterminated; the address length says where it ends.
  if (c.socket.empty() || c.socket.size() > sizeof addr.sun_path - 1) {
    throw SysError{ENAMETOOLONG, "connect", c.socket};
  }
  memcpy(addr.sun_path + 1, c.socket.data(), c.socket.size());
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + c.socket.size());

  Fd s{socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) throw SysError{errno, "socket", c.socket};
  // Bounds connect (a full backlog), the send and each read: a monitor still setting up the
  // container listens before its main loop serves, and must not hold the caller indefinitely.
  struct timeval tv = {c.timeoutMs / 1000, (c.timeoutMs % 1000) * 1000};
  if (setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
      setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
    throw SysError{errno, "setsockopt", c.socket};
  }
  int rc;
  do rc = connect(s.fd, reinterpret_cast<struct sockaddr*>(&addr), len);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) throw SysError{timedOut(errno), "connect", c.socket};

  // Who made the listening socket, from the kernel, before a word is exchanged.
  struct ucred peer = {};
  socklen_t peerLen = sizeof peer;
  if (getsockopt(s.fd, SOL_SOCKET, SO_PEERCRED, &peer, &peerLen) < 0) {
    throw SysError{errno, "getsockopt SO_PEERCRED", c.socket};
  }
  sendRequest(s.fd, Request{c.command, 0, nullptr}, c.socket);
  Response rsp = readResponse(s.fd, c.socket);

  LxcAnswer a;
  a.ret = rsp.ret;
  a.value = (int64_t)(intptr_t)rsp.data;
  a.peerPid = peer.pid;
  a.peerUid = peer.uid;
  a.peerGid = peer.gid;
  return a;
}

namespace {

class LxcCommandJob : public OwnThreadJob {
 public:
  LxcCommand command;

 protected:
  void Execute() override { answer_ = runLxcCommand(command); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("ret", Napi::Number::New(env, answer_.ret));
    out.Set("value", Napi::Number::New(env, (double)answer_.value));
    out.Set("peerPid", Napi::Number::New(env, answer_.peerPid));
    out.Set("peerUid", Napi::Number::New(env, answer_.peerUid));
    out.Set("peerGid", Napi::Number::New(env, answer_.peerGid));
    return out;
  }

 private:
  LxcAnswer answer_;
};

}  // namespace

Napi::Value LxcCommandFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "lxcCommand takes an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  Napi::Value timeout = o.Get("timeoutMs");
  if (!o.Get("socket").IsString() || !o.Get("command").IsNumber() ||
      !(timeout.IsUndefined() || timeout.IsNumber())) {
    throw Napi::TypeError::New(env, "lxcCommand needs socket (string), command (number) and timeoutMs (number)");
  }
  auto* job = new LxcCommandJob();
  job->command.socket = o.Get("socket").As<Napi::String>().Utf8Value();
  job->command.command = o.Get("command").As<Napi::Number>().Int32Value();
  if (timeout.IsNumber()) job->command.timeoutMs = timeout.As<Napi::Number>().Int32Value();
  if (job->command.timeoutMs <= 0) job->command.timeoutMs = 1;
  return job->Start(env);
}

}  // namespace scope
