import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync, fchmodSync, fchownSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { execHelperPath, native } from '../../native/index';

/**
 * A payload's side of the channel, as scope-probe speaks it (native/src/probe-control.c): it polls
 * argv[1] for a request, then answers on argv[2]. What it answers depends on the request's data:
 * "oversize": one frame larger than a queue's message size (the send must fail, and says how);
 * otherwise a frame forged for another request id, then the answer in two frames (206, then 200),
 * whose data tells the owner and mode of the queue the request came on.
 */
const FAKE_PAYLOAD = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void frame(mqd_t out, const char *header, const char *data) {
  char buf[8192];
  size_t h = strlen(header) + 1, d = strlen(data) + 1;
  memcpy(buf, header, h);
  memcpy(buf + h, data, d);
  if (mq_send(out, buf, h + d, 0) < 0) printf("send %s\n", strerrorname_np(errno));
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  for (;;) {
    char msg[8192 + 1]; /* mq_receive takes no buffer smaller than the queue's message size */
    ssize_t n = -1;
    struct stat st;
    mqd_t in = mq_open(argv[1], O_RDONLY | O_NONBLOCK);
    if (in != (mqd_t)-1) {
      n = mq_receive(in, msg, sizeof msg - 1, NULL);
      if (fstat(in, &st) < 0) n = -1;
      mq_close(in);
    }
    if (n <= 0) {
      struct timespec step = {0, 5000000};
      nanosleep(&step, NULL);
      continue;
    }
    msg[n] = 0;
    const char *u = strstr(msg, "\"uniq\":");
    long uniq = u ? atol(u + 7) : -1;
    const char *data = msg + strlen(msg) + 1 < msg + n ? msg + strlen(msg) + 1 : "";
    mqd_t out = mq_open(argv[2], O_WRONLY | O_NONBLOCK);
    if (out == (mqd_t)-1) {
      printf("open %s\n", strerrorname_np(errno));
    } else if (strstr(data, "oversize")) {
      static char big[9000];
      memset(big, 'x', sizeof big);
      sprintf(big, "{\"status\":200,\"uniq\":%ld}", uniq);
      big[sizeof big - 1] = 0;
      if (mq_send(out, big, sizeof big, 0) < 0) printf("oversize %s\n", strerrorname_np(errno));
      else printf("oversize sent\n");
    } else {
      char header[128], body[128];
      snprintf(header, sizeof header, "{\"status\":200,\"uniq\":%ld}", uniq + 1);
      frame(out, header, "{\"forged\":true}");
      snprintf(header, sizeof header, "{\"status\":206,\"uniq\":%ld}", uniq);
      frame(out, header, "{\"queue\":");
      snprintf(header, sizeof header, "{\"status\":200,\"uniq\":%ld}", uniq);
      snprintf(body, sizeof body, "{\"uid\":%u,\"gid\":%u,\"mode\":%u}}", (unsigned)st.st_uid, (unsigned)st.st_gid,
               (unsigned)(st.st_mode & 07777));
      frame(out, header, body);
      printf("answered %ld\n", uniq);
    }
    if (out != (mqd_t)-1) mq_close(out);
    fflush(stdout);
  }
}
`;

/** A frame as the engine sends one (native/ipc.ts): a JSON header, a NUL, the data, a NUL. */
function frame(header: object, data: string): Buffer {
  return Buffer.concat([Buffer.from(JSON.stringify(header)), Buffer.of(0), Buffer.from(data), Buffer.of(0)]);
}

function unframe(f: Buffer): { header: Record<string, unknown>; data: string } {
  const end = f.indexOf(0);
  const dataEnd = f.indexOf(0, end + 1);
  return { header: JSON.parse(f.subarray(0, end).toString()), data: f.subarray(end + 1, dataEnd).toString() };
}

/** The data of an answer's frames, joined as ipc.ts joins them, parsed. */
function answerData(frames: Buffer[]): unknown {
  return JSON.parse(frames.map((f) => unframe(f).data).join(''));
}

const queues = (n: number) => ({ inName: `/ScopeIPCIn.${n}`, outName: `/ScopeIPCOut.${n}` });

interface ExchangeOptions {
  timeoutMs?: number;
  /** Instead of one request frame made of the data. */
  messages?: Buffer[];
}

/** The host IDs the queues are made for: an ordinary user, so the engine's own capabilities are not used. */
const USER = { uid: 1000, gid: 1000 };

interface LineWaiter {
  match: RegExp;
  from: number;
  resolve: (line: string) => void;
  reject: (e: Error) => void;
}

/**
 * A process in an IPC namespace of its own, with that namespace's message queues mounted (in a mount
 * namespace of its own) at a directory the test reads through /proc/PID/root: what an engine leaves
 * behind there is visible, and nothing touches the host's queues.
 */
class InIpcNamespace {
  readonly pid: number;
  readonly lines: string[] = [];
  /** Lines up to this index were returned by line(). */
  private consumed = 0;
  private readonly waiters: LineWaiter[] = [];
  private ended = false;

  constructor(readonly child: ChildProcess, readonly mqDir: string) {
    this.pid = child.pid!;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.settle();
    });
    child.once('exit', () => {
      this.ended = true;
      this.settle();
    });
  }

  /** Starts `argv` (with `--pid` and its own PID appended when `withPid`) once the queues are mounted. */
  static async start(argv: string[], withPid = false): Promise<InIpcNamespace> {
    const mqDir = mkdtempSync(join(tmpdir(), 'se-mq-'));
    // unshare and sh exec in turn: the program keeps the PID spawn gave, the one the test kills.
    const script = `mount -t mqueue mqueue "$0" && echo ready && exec "$@"${withPid ? ' --pid $$' : ''}`;
    const child = spawn('unshare', ['--ipc', '--mount', '--propagation', 'private', 'sh', '-c', script, mqDir, ...argv],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b) => { stderr += b; });
    const p = new InIpcNamespace(child, mqDir);
    try {
      await p.line(/^ready$/);
    } catch (e) {
      await p.stop();
      throw new Error(`${argv[0]} did not start: ${stderr.trim() || (e as Error).message}`);
    }
    return p;
  }

  /** The first line matching `match` printed after the last one returned, as soon as it is printed. */
  line(match: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ match, from: this.consumed, resolve, reject });
      this.settle();
    });
  }

  private settle(): void {
    for (const w of this.waiters.splice(0)) {
      const at = this.lines.findIndex((l, i) => i >= w.from && w.match.test(l));
      if (at >= 0) {
        this.consumed = at + 1;
        w.resolve(this.lines[at]);
      } else if (this.ended) {
        w.reject(new Error(`process ${this.pid} ended without printing ${w.match}`));
      } else {
        this.waiters.push(w);
      }
    }
  }

  /** The message queues now in its IPC namespace. */
  queues(): string[] {
    return readdirSync(`/proc/${this.pid}/root${this.mqDir}`).sort();
  }

  /** Makes a queue under `name` as someone else would: owned by `uid`:`gid`, with `mode`. */
  plantQueue(name: string, uid: number, gid: number, mode: number): string {
    const path = `/proc/${this.pid}/root${this.mqDir}${name}`;
    const fd = openSync(path, 'wx', mode);
    fchmodSync(fd, mode); // exactly `mode`, whatever our umask took from it
    fchownSync(fd, uid, gid);
    closeSync(fd);
    return path;
  }

  async stop(): Promise<void> {
    if (!this.ended) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // Ended on its own just now: its 'exit' is on the way.
      }
      await exited;
    }
    // Its mount namespace went with it: the directory is an empty one on the host again.
    rmSync(this.mqDir, { recursive: true, force: true });
  }
}

/** The error `p` rejects with; a test fails if it resolves. */
async function rejection(p: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  try {
    await p;
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  return expect.fail('the exchange succeeded') as never;
}

describe('mqExchange: the IPC channel to a payload (child processes in IPC namespaces of their own)', () => {
  let work: string;
  let probe: InIpcNamespace;
  let fake: InIpcNamespace;
  const pidfds: number[] = [];
  const pidfdOf = (p: InIpcNamespace) => {
    const fd = native().pidfdOpen(p.pid);
    pidfds.push(fd);
    return fd;
  };
  /** One request `data` on queues number `n`, with request id 1000 + n. */
  const exchange = (p: InIpcNamespace, n: number, data: string, more: ExchangeOptions = {}) => {
    const uniq = 1000 + n;
    return native().mqExchange({
      pidfd: pidfdOf(p), ...queues(n), ...USER, uniq, timeoutMs: more.timeoutMs ?? 5000,
      messages: more.messages ?? [frame({ req: 0, uniq, remain: data.length + 1 }, data)],
    });
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'se-mq-work-'));
    writeFileSync(join(work, 'fake-payload.c'), FAKE_PAYLOAD);
    execFileSync('cc', ['-O1', '-Wall', '-o', join(work, 'fake-payload'), join(work, 'fake-payload.c'), '-lrt']);
    const probePath = join(dirname(execHelperPath()), 'scope-probe');
    // A report period far beyond the test: the probe reports once on start, then only answers IPC.
    [probe, fake] = await Promise.all([
      InIpcNamespace.start([probePath, '--dir', work, '--period-ms', '3600000'], true),
      InIpcNamespace.start([join(work, 'fake-payload'), queues(1).inName, queues(1).outName]),
    ]);
  });
  after(async () => {
    for (const fd of pidfds.splice(0)) native().closeFd(fd);
    await Promise.all([probe?.stop(), fake?.stop()]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('scope-probe answers a status request with its own state, and both queues are gone afterwards', async () => {
    const { inName, outName } = queues(probe.pid);
    const uniq = 4242;
    const request = JSON.stringify({ req: 'status' });
    const frames = await native().mqExchange({
      pidfd: pidfdOf(probe), inName, outName, ...USER, uniq, timeoutMs: 10_000,
      messages: [frame({ req: 0, uniq, remain: request.length + 1 }, request)],
    });
    expect(frames).to.have.length(1);
    const { header, data } = unframe(frames[0]);
    expect(header).to.include({ status: 200, uniq });
    expect(JSON.parse(data)).to.include({ probe: 'scope-probe', pid: probe.pid, ipc_requests: 1 });
    expect(probe.queues()).to.deep.equal([]);
  });

  it('makes the queues for the given user with mode 0666, drops frames of another request, follows 206 to the end',
    async () => {
      const frames = await exchange(fake, 1, '{"req":"status"}');
      await fake.line(/^answered 1001$/);
      expect(frames.map((f) => unframe(f).header)).to.deep.equal([
        { status: 206, uniq: 1001 }, { status: 200, uniq: 1001 },
      ]);
      expect(answerData(frames)).to.deep.equal({ queue: { ...USER, mode: 0o666 } });
      expect(fake.queues()).to.deep.equal([]);
    });

  it('an answer larger than a message never arrives: ETIMEDOUT on the out queue, nothing left', async () => {
    const err = await rejection(exchange(fake, 1, '"oversize"', { timeoutMs: 500 }));
    expect(await fake.line(/^oversize /)).to.equal('oversize EMSGSIZE');
    expect(err).to.include({ code: 'ETIMEDOUT', syscall: 'mq_receive', path: queues(1).outName });
    expect(fake.queues()).to.deep.equal([]);
  });

  it('nobody answering is ETIMEDOUT within the time asked, and leaves no queue behind', async () => {
    const started = Date.now();
    const err = await rejection(exchange(fake, 2, '{"req":"status"}', { timeoutMs: 300 }));
    expect(err).to.include({ code: 'ETIMEDOUT', syscall: 'mq_receive', path: queues(2).outName });
    expect(Date.now() - started).to.be.within(290, 5000);
    expect(fake.queues()).to.deep.equal([]);
  });

  it('a request larger than a message is refused before it is sent (EMSGSIZE), leaving no queue', async () => {
    const err = await rejection(exchange(fake, 2, '', { messages: [Buffer.alloc(8193, 'x')] }));
    expect(err).to.include({ code: 'EMSGSIZE', syscall: 'mq_send', path: queues(2).inName });
    expect(fake.queues()).to.deep.equal([]);
  });

  it('a queue another user made under the name is neither used nor removed (EEXIST); ours is removed', async () => {
    const planted = fake.plantQueue(queues(3).outName, 4343, 4343, 0o622);
    try {
      const err = await rejection(exchange(fake, 3, '{"req":"status"}', { timeoutMs: 300 }));
      expect(err).to.include({ code: 'EEXIST', syscall: 'mq_open', path: queues(3).outName });
      const st = statSync(planted);
      expect([st.uid, st.gid, st.mode & 0o7777]).to.deep.equal([4343, 4343, 0o622]);
      expect(fake.queues()).to.deep.equal([queues(3).outName.slice(1)]);
    } finally {
      unlinkSync(planted);
    }
  });

  it('a queue the same user left under the name (an engine that died mid-exchange) is replaced', async () => {
    fake.plantQueue(queues(1).inName, USER.uid, USER.gid, 0o600);
    const frames = await exchange(fake, 1, '{"req":"status"}');
    await fake.line(/^answered 1001$/);
    expect(answerData(frames)).to.deep.equal({ queue: { ...USER, mode: 0o666 } });
    expect(fake.queues()).to.deep.equal([]);
  });

  it('a descriptor that is no pidfd cannot be joined: setns fails, naming the IPC namespace', async () => {
    const notPidfd = openSync('/dev/null', 'r');
    try {
      const err = await rejection(native().mqExchange({ pidfd: notPidfd, ...queues(4), ...USER, messages: [] }));
      expect(err).to.include({ code: 'EINVAL', syscall: 'setns', path: 'ipc' });
      expect(err.message).to.equal('setns ipc: Invalid argument');
    } finally {
      closeSync(notPidfd);
    }
  });
});
