// One question to a running LXC container's monitor over its command socket, as liblxc's own tools
// ask it (lxc-info, and LXD through go-lxc): the abstract unix socket "<lxcpath>/<name>/command".
#pragma once

#include <napi.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace scope {

struct LxcCommand {
  std::string socket;   // the abstract name, without its leading NUL
  int command = 0;      // liblxc's lxc_cmd_t: LXC_CMD_GET_STATE (3), LXC_CMD_GET_INIT_PID (4)
  int timeoutMs = 5000;
};

struct LxcAnswer {
  int ret = 0;          // the monitor's rsp.ret: 0, or -errno (-EPERM: this user may not ask)
  int64_t value = 0;    // the word the monitor answered in rsp.data (a PID, a state)
  // Who listens on the socket, as the kernel recorded it when the socket was made (SO_PEERCRED):
  // nothing the monitor can say about itself.
  pid_t peerPid = 0;
  uid_t peerUid = 0;
  gid_t peerGid = 0;
};

// Connects, sends the request with this process's credentials, reads the fixed-size answer.
// Throws SysError: ECONNREFUSED when nothing listens (the container is not running), ETIMEDOUT when
// the monitor does not answer in time, EPROTO for an answer that is not liblxc's.
LxcAnswer runLxcCommand(const LxcCommand& c);

// lxcCommand({socket, command, timeoutMs}): the addon's function, a promise of
// {ret, value, peerPid, peerUid, peerGid}. Runs off the JavaScript thread (own_thread.h).
Napi::Value LxcCommandFn(const Napi::CallbackInfo& info);

}  // namespace scope
