/**
 * A built-in adapter built when first asked, not when the engine loads: `exec --runtime docker`
 * then builds docker's alone, not the LXD client, the classic LXC checks and the CRI endpoint search
 * of the others. Only adapters with nothing to refuse are built late (Builtins.runtime): one given
 * options is built at load, so that a wrong option is still refused before anything is done.
 */
import { currentPidOf, type Asked, type Container, type ContainerRuntime, type ProbeResult } from './runtime';

export class LazyRuntime implements ContainerRuntime {
  private built?: ContainerRuntime;

  constructor(readonly name: string, private readonly build: () => ContainerRuntime,
    /** The registered class's own reference syntax, known without building it (Builtin.refPattern). */
    readonly refPattern?: RegExp) {}

  private get inner(): ContainerRuntime {
    this.built ??= this.build();
    return this.built;
  }

  probe(): Promise<ProbeResult> {
    return this.inner.probe();
  }

  list(): Promise<Container[]> {
    return this.inner.list();
  }

  resolve(ref: string, asked?: Asked): Promise<Container> {
    return this.inner.resolve(ref, asked);
  }

  /** The built adapter's own check (the lxc adapter asks its monitor), else resolving again. */
  currentPid(container: Container): Promise<number> {
    return currentPidOf(this.inner, container);
  }

  /** Nothing to close in an adapter never built. */
  async close(): Promise<void> {
    await this.built?.close?.();
  }
}
