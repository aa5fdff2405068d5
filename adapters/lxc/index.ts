import { Env } from '../../core/env';
import { register } from '../../core/registry';
import { daemonTimeoutMs } from '../options';
import { ClassicLxc, defaultLxcpath } from './classic';
import { LxcRuntime } from './lxc';
import { LxdClient } from './lxd-client';

register({
  type: 'runtime',
  id: 'lxc',
  description: 'LXD and Incus through their REST socket, and classic LXC through lxc-ls/lxc-info (--lxcpath)',
  init: (ctx) => {
    const env = ctx.container.resolve<Env>(Env);
    const project = typeof ctx.options.project === 'string' ? ctx.options.project : undefined;
    const lxcpath = (typeof ctx.options.lxcpath === 'string' && ctx.options.lxcpath) || env.SCOPE_ENGINE_LXCPATH || defaultLxcpath(env);
    return new LxcRuntime(LxdClient.find(env, project, daemonTimeoutMs(ctx.options, env)), new ClassicLxc(lxcpath, env));
  },
});
