import { Env } from '../../core/env';
import { register } from '../../core/registry';
import { daemonTimeoutMs } from '../options';
import { ContainerdClient, containerdAddress } from './client';
import { CtrRuntime } from './ctr';
import { NerdctlRuntime } from './nerdctl';
import { namespaceFor } from './runtime-base';

const CLIENT = 'client.containerd';

register({
  type: 'client',
  id: 'containerd',
  description: 'gRPC client of containerd (CONTAINERD_ADDRESS, default /run/containerd/containerd.sock)',
  // Shared by ctr and nerdctl, so initialised without an entry's options: its timeout is the environment's.
  init: (ctx) => {
    const env = ctx.container.resolve<Env>(Env);
    return new ContainerdClient(containerdAddress(env), daemonTimeoutMs({}, env));
  },
});

register({
  type: 'runtime',
  id: 'ctr',
  requires: [CLIENT],
  description: 'containerd containers by ID, in one namespace (default "default")',
  init: async (ctx) => new CtrRuntime(await ctx.get<ContainerdClient>(CLIENT), namespaceFor(ctx.options, ctx.container.resolve<Env>(Env))),
});

register({
  type: 'runtime',
  id: 'nerdctl',
  requires: [CLIENT],
  description: 'containers nerdctl made, by their nerdctl/name label or ID prefix, through containerd',
  init: async (ctx) => new NerdctlRuntime(await ctx.get<ContainerdClient>(CLIENT), namespaceFor(ctx.options, ctx.container.resolve<Env>(Env))),
});
