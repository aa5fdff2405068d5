/**
 * The one loader of the native core: the addon and the exec helper next to it. When they are
 * missing, the error lists every path tried and how to build them.
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { ScopeError } from '../base/errors';
import { PACKAGE_ROOT } from '../base/paths';
import type { Binding } from './binding';

const CANDIDATE_DIRS = [
  join(PACKAGE_ROOT, 'native', 'build', 'Release'),
  join(PACKAGE_ROOT, 'native', 'build', 'Debug'),
  join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`),
];

const BUILD_HINT = 'build it with `npm install` (or `npm run build:native`) in the scope-engine package';

/** The first candidate directory where `use` accepts `file`; else E_NATIVE_MISSING naming every path tried and why. */
function findBuilt<T>(file: string, what: string, use: (path: string) => T): T {
  const tried: string[] = [];
  for (const dir of CANDIDATE_DIRS) {
    const path = join(dir, file);
    try {
      return use(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      tried.push(`${path}: ${code === 'MODULE_NOT_FOUND' || code === 'ENOENT' ? 'not there' : (err as Error).message}`);
    }
  }
  throw new ScopeError('E_NATIVE_MISSING', `${what} is not built; ${BUILD_HINT}. Tried:\n  ${tried.join('\n  ')}`,
    { details: { tried } });
}

let binding: Binding | undefined;

export function native(): Binding {
  binding ??= findBuilt('scope_native.node', 'the native core', (path) => require(path) as Binding);
  return binding;
}

const executables = new Map<string, string>();

function executable(file: string, what: string): string {
  let path = executables.get(file);
  if (!path) {
    path = findBuilt(file, what, (p) => {
      accessSync(p, constants.X_OK);
      return p;
    });
    executables.set(file, path);
  }
  return path;
}

/** The path of the scope-exec helper executable. */
export function execHelperPath(): string {
  return executable('scope-exec', 'the exec helper');
}

/** The path of scope-fs, which does a file operation inside a user-namespaced container. */
export function fsHelperPath(): string {
  return executable('scope-fs', 'the file helper');
}

/**
 * The path of scope-trace-probe, which tries process_vm_readv and ptrace on a PID from inside a container:
 * the real outcome that checkInTarget's verdicts predict.
 */
export function traceProbePath(): string {
  return executable('scope-trace-probe', 'the trace probe');
}

/** The path of scope-plugin-launch, which ties a plugin's life to the engine's. */
export function pluginLauncherPath(): string {
  return executable('scope-plugin-launch', 'the plugin launcher');
}
