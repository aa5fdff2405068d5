/**
 * One plugin program's life: started with go-plugin's environment in a short private directory,
 * its handshake line read within the start timeout, its stderr logged and its tail kept for error
 * messages, and its end: Shutdown asked by the caller, then SIGKILL 2 s later if it is still there,
 * the private directory (and the socket in it) removed. No zombie: Node reaps it; no orphan: the
 * engine's exit kills it, and scope-plugin-launch has the kernel kill it when the engine is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pluginLauncherPath } from '../../native/index';
import { ScopeError } from '../errors';
import { log } from '../log';
import { pluginEnv, parseHandshake, type Handshake } from './handshake';
import { HclogReader } from './hclog';

export interface PluginCommand {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
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
    // Short, so that the socket path fits in sun_path's 108 bytes whatever TMPDIR is.
    this.dir = mkdtempSync('/tmp/sep-');
    const launcher = launcherFor(spec.name);
    const [command, args] = launcher ? [launcher, [String(process.pid), spec.command, ...spec.args]] : [spec.command, spec.args];
    this.child = spawn(command, args, {
      env: { ...process.env, ...spec.env, ...pluginEnv(this.dir) },
      // stdin stays a pipe the engine never writes: its end tells an SDK plugin the engine is gone.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(this);
    const reader = new HclogReader();
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.tail.push(line);
      if (this.tail.length > STDERR_TAIL) this.tail.shift();
      const entry = reader.parse(line);
      log(entry.level, `plugin ${spec.name}`, entry.message, entry.fields);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = signal ? `killed by ${signal}` : `exited with status ${code}`;
        running.delete(this);
        rmSync(this.dir, { recursive: true, force: true });
        resolve();
      });
      this.child.once('error', (err) => {
        this.exitInfo = `could not be started: ${err.message}`;
        running.delete(this);
        rmSync(this.dir, { recursive: true, force: true });
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
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** After a Shutdown request: give it 2 s, as go-plugin does, then kill it. */
  async stop(): Promise<void> {
    const timer = setTimeout(() => this.kill(), KILL_AFTER_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private handshake(): Promise<Handshake> {
    return new Promise<Handshake>((resolve, reject) => {
      const lines = createInterface({ input: this.child.stdout! });
      const timer = setTimeout(() => {
        done();
        reject(new ScopeError('E_PLUGIN_TIMEOUT', `plugin ${this.spec.name} (${this.spec.command}) did not complete its handshake ` +
          `within ${this.spec.startTimeoutMs} ms${this.stderrTail()}`));
      }, this.spec.startTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        lines.removeAllListeners('line');
      };
      lines.once('line', (line) => {
        done();
        // After the handshake, stdout is drained and ignored, as go-plugin's host does.
        this.child.stdout!.resume();
        try {
          resolve(parseHandshake(line, this.spec.name));
        } catch (err) {
          reject(new ScopeError('E_PLUGIN_HANDSHAKE', `${(err as Error).message}${this.stderrTail()}`));
        }
      });
      this.exited.then(() => {
        done();
        reject(new ScopeError('E_PLUGIN_EXITED', `plugin ${this.spec.name} (${this.spec.command}) ${this.exitInfo} ` +
          `before its handshake${this.stderrTail()}`));
      });
    });
  }
}

/** scope-plugin-launch, or nothing (with a warning) when the native core is not built. */
function launcherFor(plugin: string): string | undefined {
  try {
    return pluginLauncherPath();
  } catch {
    log('warn', 'engine', `scope-plugin-launch is not built: plugin ${plugin} would outlive an engine killed by SIGKILL`);
    return undefined;
  }
}
