/**
 * The private directories plugins make their sockets in: /tmp/sep-<engine PID>-XXXXXX. An engine
 * removes its own when the plugin exits; one killed by SIGKILL cannot, so every engine, before it
 * starts a plugin, removes those whose engine is gone. They cannot be removed as soon as the plugin
 * has connected instead: go-plugin plugins keep using the directory as their TMPDIR, and grpc-js
 * dials the socket again after an idle connection was closed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../../base/log';

/** Short, so that a socket path in it fits in sun_path's 108 bytes whatever TMPDIR is. */
const ROOT = '/tmp';
const PATTERN = /^sep-(\d+)-[A-Za-z0-9]{6}$/;
let swept = false;

/** Makes a directory for one plugin of this engine; the first time, removes the dead engines' ones. */
export function makeSocketDir(): string {
  if (!swept) {
    swept = true;
    sweepSocketDirs();
  }
  return mkdtempSync(join(ROOT, `sep-${process.pid}-`));
}

/** Removes the socket directories of this user whose engine has exited. */
export function sweepSocketDirs(): void {
  let names: string[];
  try {
    names = readdirSync(ROOT);
  } catch {
    return;
  }
  for (const name of names) {
    const m = PATTERN.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    const path = join(ROOT, name);
    try {
      const st = statSync(path);
      if (st.uid !== process.getuid?.() || !st.isDirectory()) continue;
      if (!ownerIsGone(Number(m[1]), st.mtimeMs)) continue;
      rmSync(path, { recursive: true, force: true });
      log('debug', 'engine', `removed ${path}, left by engine ${m[1]}, which is gone`);
    } catch {
      // Removed by another engine meanwhile, or not ours to remove: either way, nothing to do.
    }
  }
}

/**
 * Whether the engine that made a directory last changed at `mtimeMs` has exited. A process now
 * holding its PID that started after that moment is another process: the PID was reused.
 */
function ownerIsGone(pid: number, mtimeMs: number): boolean {
  const started = startTimeMs(pid);
  return started === undefined || started > mtimeMs + 1000;
}

/** When process `pid` started (wall clock, ms), or undefined when there is no such process. */
function startTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name, which may hold spaces and parentheses.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    return boot * 1000 + (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** sysconf(_SC_CLK_TCK): 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;
