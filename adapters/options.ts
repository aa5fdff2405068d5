import type { InjectionToken } from 'tsyringe';
import type { InitContext } from '../core/registry';

/** The "options" object of an adapter's plugins.json entry, injectable into the adapter's constructor. */
export type PluginOptions = Readonly<Record<string, unknown>>;
export const PluginOptions = Symbol('PluginOptions');

/** The init of a registration whose adapter class takes its options (and Env) by injection. */
export function injectedInit<T>(cls: InjectionToken<T>) {
  return (ctx: InitContext): T => {
    ctx.container.register(PluginOptions, { useValue: ctx.options });
    return ctx.container.resolve(cls);
  };
}
