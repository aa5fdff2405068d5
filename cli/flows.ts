/**
 * The engine's flows (and the doctor), for the commands' actions: loaded when a command that acts
 * runs, not while the command line is being built, so that `resolve`, `ps` and `--help` do not load
 * them (and the native core's wrappers) at every start.
 */
import type * as Core from '../core/index';

let loaded: typeof Core | undefined;

export function flows(): typeof Core {
  loaded ??= require('../core/index') as typeof Core;
  return loaded;
}
