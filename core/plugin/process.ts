/**
 * One plugin program's life: started with go-plugin's environment in a short private directory
 * (socket-dir.ts), in a process group of its own, its handshake line read within the start timeout
 * and a bounded length, its stderr logged and its tail kept for error messages, and its end:
 * Shutdown asked by the caller, then SIGKILL 2 s later if it is still there. When it exits, the
 * engine kills what is left of its group (a child of it that kept its stdout open would otherwise
 * keep the engine alive, and live on as an orphan), lets go of its pipes and removes the directory.
 * No zombie: Node reaps it; no orphan: the engine's exit kills the group, and scope-plugin-launch
 * has the kernel kill the plugin when the engine is killed.
 */
import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../../base/lazy';
import { rmSync } from 'node:fs';
import { pluginLauncherPath } from '../../native/index';
import { ScopeError } from '../../base/errors';
import { log } from '../../base/log';
import { pluginEnv, parseHandshake, type Handshake } from './handshake';
import { HclogReader } from './hclog';
import { MAX_LINE_BYTES, readLines } from './lines';
import { makeSocketDir } from './socket-dir';

export interface PluginCommand {
  name: string;
  command: string;
  args: string[];
  /** The whole environment of the program: the engine's, then the entry's "env". */
  env: Record<string, string | undefined>;
  startTimeoutMs: number;
}

const STDERR_TAIL = 20;
const KILL_AFTER_MS = 2000;
const running = new Set<PluginProcess>();
process.once('exit', () => {
  for (const p of running) p.kill();
});

export class PluginProcess {
  readonly child: ChildProcess;
  readonly dir: string;
  private tail: string[] = [];
  private exitInfo?: string;
  readonly exited: Promise<void>;

  private constructor(private readonly spec: PluginCommand) {
    this.dir = makeSocketDir();
    const launcher = launcherFor(spec.name);
    const [command, args] = launcher
      ? [launcher, [String(process.pid), spec.command, ...spec.args]]
      : [spec.command, spec.args];
    this.child = childProcess().spawn(command, args, {
      env: { ...spec.env, ...pluginEnv(this.dir) },
      // stdin stays a pipe the engine never writes: its end tells an SDK plugin the engine is gone.
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group (setsid), so that what it starts can be ended with it, by the group's ID.
      detached: true,
    });
    running.add(this);
    const reader = new HclogReader();
    readLines(this.child.stderr!, (line, cut) => {
      if (cut) line += ' [cut]';
      this.tail.push(line);
      if (this.tail.length > STDERR_TAIL) this.tail.shift();
      const entry = reader.parse(line);
      log(entry.level, `plugin ${spec.name}`, entry.message, entry.fields);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = signal ? `killed by ${signal}` : `exited with status ${code}`;
        this.ended();
        resolve();
      });
      this.child.once('error', (err) => {
        this.exitInfo = `could not be started: ${err.message}`;
        this.ended();
        resolve();
      });
    });
  }

  /** Starts the program and waits for its handshake line. */
  static async start(spec: PluginCommand): Promise<{ process: PluginProcess; handshake: Handshake }> {
    const p = new PluginProcess(spec);
    try {
      return { process: p, handshake: await p.handshake() };
    } catch (err) {
      p.kill();
      await p.exited;
      throw err;
    }
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** What the plugin said last on stderr, for error messages. */
  stderrTail(): string {
    return this.tail.length ? `; its stderr ended with:\n  ${this.tail.join('\n  ')}` : '; it wrote nothing on stderr';
  }

  /** Why it is gone: "exited with status 1", "killed by SIGSEGV". */
  get exitReason(): string | undefined {
    return this.exitInfo;
  }

  kill(): void {
    if (this.alive) this.killGroup();
  }

  /** SIGKILL to the plugin's process group, by its ID (the plugin's PID): it and all it started. */
  private killGroup(): void {
    if (!this.child.pid) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is empty already.
    }
  }

  /** The plugin is gone: end the rest of its group, close its pipes, remove its directory. */
  private ended(): void {
    running.delete(this);
    this.killGroup();
    // Killing the group closes the pipes' other ends; a process that left the group (setsid) may
    // still hold them, and they must not keep the engine alive. They are not destroyed: what the
    // plugin wrote last (its stderr tail, for the error message) may not have been read yet.
    this.child.stdin?.destroy();
    for (const s of [this.child.stdout, this.child.stderr]) (s as { unref?: () => void } | null)?.unref?.();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** After a Shutdown request: give it 2 s, as go-plugin does, then kill it. */
  async stop(): Promise<void> {
    const timer = setTimeout(() => this.kill(), KILL_AFTER_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private handshake(): Promise<Handshake> {
    return new Promise<Handshake>((resolve, reject) => {
      const what = `plugin ${this.spec.name} (${this.spec.command})`;
      let settled = false;
      const timer = setTimeout(() => {
        done();
        reject(new ScopeError('E_PLUGIN_TIMEOUT', `${what} did not complete its handshake ` +
          `within ${this.spec.startTimeoutMs} ms${this.stderrTail()}`));
      }, this.spec.startTimeoutMs);
      const stop = readLines(this.child.stdout!, (line, cut) => {
        if (settled) return;
        done();
        if (cut) {
          return reject(new ScopeError('E_PLUGIN_HANDSHAKE',
            `${what}: its first line is longer than ${MAX_LINE_BYTES} bytes, ` +
            `so it is no go-plugin handshake; it began ${JSON.stringify(line.slice(0, 200))}${this.stderrTail()}`));
        }
        try {
          resolve(parseHandshake(line, this.spec.name));
        } catch (err) {
          reject(new ScopeError('E_PLUGIN_HANDSHAKE', `${(err as Error).message}${this.stderrTail()}`));
        }
      });
      const done = () => {
        settled = true;
        clearTimeout(timer);
        stop();
        // After the handshake, stdout is drained and ignored, as go-plugin's host does.
        this.child.stdout!.resume();
      };
      this.exited.then(() => {
        if (settled) return;
        done();
        reject(new ScopeError('E_PLUGIN_EXITED', `${what} ${this.exitInfo} before its handshake${this.stderrTail()}`));
      });
    });
  }
}

/** scope-plugin-launch, or nothing (with a warning) when the native core is not built. */
function launcherFor(plugin: string): string | undefined {
  try {
    return pluginLauncherPath();
  } catch {
    log('warn', 'engine',
      `scope-plugin-launch is not built: plugin ${plugin} would outlive an engine killed by SIGKILL`);
    return undefined;
  }
}
