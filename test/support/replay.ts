/**
 * Serves HTTP exchanges recorded from a real daemon (fixtures/<runtime>/*.json) on a unix socket,
 * so unit tests run the real client library (dockerode) against real answers without the daemon.
 * A request that was not recorded gets 599 and is remembered, so a test fails loudly on it.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { tempDir } from './tmp';

export interface Exchange {
  method: string;
  path: string;
  status: number;
  contentType?: string;
  /** Headers an adapter reads (podman's Libpod-API-Version). */
  headers?: Record<string, string>;
  body: string;
}

export interface Recording {
  recordedFrom: string;
  exchanges: Exchange[];
}

export const FIXTURES = join(__dirname, '..', '..', '..', 'fixtures');

export function loadRecording(runtime: string, scenario: string): Recording {
  return JSON.parse(readFileSync(join(FIXTURES, runtime, `${scenario}.json`), 'utf8')) as Recording;
}

export class ReplayServer {
  readonly unmatched: string[] = [];
  private server?: Server;
  private dir?: string;
  socketPath = '';

  constructor(private readonly exchanges: Exchange[]) {}

  async start(): Promise<this> {
    const dir = tempDir('replay-');
    this.dir = dir;
    this.socketPath = join(dir, 'api.sock');
    this.server = createServer((req, res) => {
      // Recorded paths are matched without the API version prefix the client may add.
      const path = (req.url ?? '').replace(/^\/v[0-9.]+\/(?!libpod)/, '/');
      const hit = this.exchanges.find((e) => e.method === req.method && e.path === path);
      if (!hit) {
        this.unmatched.push(`${req.method} ${path}`);
        res.writeHead(599).end('not recorded');
        return;
      }
      res.writeHead(hit.status, { ...(hit.contentType ? { 'content-type': hit.contentType } : {}), ...hit.headers })
        .end(hit.body);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.socketPath, resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Serves the recorded scenarios of one runtime while `fn` runs, hands it the socket and the parsed
 * bodies of the first scenario's exchanges, and fails if the client asked anything never recorded.
 */
export async function withRecorded<T>(runtime: string, scenarios: string[],
  fn: (socketPath: string, answers: any[]) => Promise<T>): Promise<T> {
  const recordings = scenarios.map((s) => loadRecording(runtime, s));
  const server = await new ReplayServer(recordings.flatMap((r) => r.exchanges)).start();
  try {
    const answers = recordings[0].exchanges.map((e) => (e.contentType?.includes('json') ? JSON.parse(e.body) : e.body));
    const result = await fn(server.socketPath, answers);
    if (server.unmatched.length) throw new Error(`requests never recorded: ${server.unmatched.join(', ')}`);
    return result;
  } finally {
    await server.stop();
  }
}
