#include "mq.h"

#include <fcntl.h>
#include <mqueue.h>
#include <time.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "sys_error.h"

namespace scope {
namespace {

// AppScope's sizes: ten messages of up to 8 KiB, within the default msg_max and msgsize_max.
constexpr long kMaxMessages = 10;
constexpr long kMessageSize = 8192;

struct Queue {
  mqd_t q = (mqd_t)-1;
  std::string name;
  // Ours only once mq_open made it: a name we failed to create may be someone else's, and stays.
  ~Queue() {
    if (q != (mqd_t)-1) {
      mq_close(q);
      mq_unlink(name.c_str());
    }
  }
};

// O_EXCL: the queues are ours for this exchange. One left by an engine that died mid-exchange is
// removed and made anew, rather than blocking every later request. One we may not remove (another
// user's: /dev/mqueue is sticky) is never used: the second O_EXCL open fails with EEXIST.
void create(Queue& queue, const std::string& name, int flags) {
  struct mq_attr attr {};
  attr.mq_maxmsg = kMaxMessages;
  attr.mq_msgsize = kMessageSize;
  queue.name = name;
  queue.q = mq_open(name.c_str(), flags | O_CREAT | O_EXCL | O_CLOEXEC, 0666, &attr);
  if (queue.q == (mqd_t)-1 && errno == EEXIST) {
    // Unchecked: the O_EXCL open below says whether the name is free now.
    mq_unlink(name.c_str());
    queue.q = mq_open(name.c_str(), flags | O_CREAT | O_EXCL | O_CLOEXEC, 0666, &attr);
  }
  if (queue.q == (mqd_t)-1) throw SysError{errno, "mq_open", name};
}

struct timespec deadlineIn(int ms) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

// The number after "uniq": in a frame header, or -1. The header is JSON the engine checks again.
long uniqOf(const std::string& header) {
  size_t at = header.find("\"uniq\":");
  if (at == std::string::npos) return -1;
  const char* start = header.c_str() + at + 7;
  char* end;
  errno = 0;
  long v = strtol(start, &end, 10);
  return end == start || errno ? -1 : v;
}

}  // namespace

std::vector<std::string> runMqExchange(const MqExchange& x) {
  Queue in, out;
  create(in, x.inName, O_WRONLY);
  create(out, x.outName, O_RDONLY);
  const struct timespec deadline = deadlineIn(x.timeoutMs);
  for (const std::string& m : x.messages) {
    if (m.size() > (size_t)kMessageSize) throw SysError{EMSGSIZE, "mq_send", x.inName};
    if (mq_timedsend(in.q, m.data(), m.size(), 0, &deadline) < 0) throw SysError{errno, "mq_send", x.inName};
  }
  std::vector<std::string> replies;
  std::vector<char> buf(kMessageSize);
  for (;;) {
    ssize_t n = mq_timedreceive(out.q, buf.data(), buf.size(), nullptr, &deadline);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SysError{errno, "mq_receive", x.outName};
    // The header runs to the first NUL; 206 means more frames follow.
    std::string header(buf.data(), strnlen(buf.data(), (size_t)n));
    if (uniqOf(header) != x.uniq) continue;
    replies.emplace_back(buf.data(), (size_t)n);
    if (header.find("\"status\":206") == std::string::npos) break;
  }
  return replies;
}

}  // namespace scope
