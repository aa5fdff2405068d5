// The engine's end of the IPC channel: POSIX message queues in the target's IPC namespace.
#pragma once

#include <string>
#include <vector>

namespace scope {

struct MqExchange {
  std::string inName;   // "/ScopeIPCIn.<pid>": the engine writes, the payload reads
  std::string outName;  // "/ScopeIPCOut.<pid>": the payload writes, the engine reads
  std::vector<std::string> messages;
  int timeoutMs = 5000;
  long uniq = 0;        // the request's id: a frame whose header carries another is not an answer
};

// Creates both queues (mode 0666, owned by the calling thread's fsuid/fsgid), sends the messages,
// receives the replies to request `uniq` until one whose header is not a partial answer (status
// 206), then removes both queues. Frames for another id (stale, or forged by anything in the
// container, since the queues are 0666) are dropped. Throws SysError (sys_error.h); ETIMEDOUT when nothing
// answered in time, EEXIST when a queue of that name is there and not ours to remove.
std::vector<std::string> runMqExchange(const MqExchange& x);

}  // namespace scope
