import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { container } from 'tsyringe';
import { builtinRegistry, createEngine, PluginFiles, Registry, type ContainerRuntime } from '../../core/index';
import { tempDir } from '../support/tmp';

function fakeRuntime(name: string, log: string[] = []): ContainerRuntime {
  return {
    name,
    probe: async () => ({ available: true }),
    list: async () => [],
    resolve: async (ref) => {
      log.push(ref);
      return { runtime: '', id: ref, name: ref, state: 'running', pid: 1, labels: {}, image: '' };
    },
  };
}

function pluginsFile(doc: unknown): string {
  const dir = tempDir('registry-');
  const path = join(dir, 'plugins.json');
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

describe('registry', () => {
  it('refuses a second registration of the same type and id, and unregisters with the handle', () => {
    const r = new Registry();
    const off = r.register({ type: 'runtime', id: 'x', init: () => fakeRuntime('x') });
    expect(() => r.register({ type: 'runtime', id: 'x', init: () => fakeRuntime('x') })).to.throw(/registered twice/);
    off();
    expect(r.get('runtime.x')).to.equal(undefined);
  });

  it('has the built-in docker adapter registered by importing the adapters', () => {
    expect(builtinRegistry.ids('runtime')).to.include('docker');
  });

  it('initialises what a registration requires first, once per engine, and hands over the options', async () => {
    const r = new Registry();
    const order: string[] = [];
    let clients = 0;
    r.register({ type: 'client', id: 'shared', init: () => { clients++; order.push('client'); return { tag: 'the-client' }; } });
    for (const id of ['a', 'b']) {
      r.register({
        type: 'runtime', id, requires: ['client.shared'],
        init: async (ctx) => {
          const c = await ctx.get<{ tag: string }>('client.shared');
          order.push(`${id}:${c.tag}:${ctx.options.flag}`);
          return fakeRuntime(id);
        },
      });
    }
    const files = [{ path: pluginsFile({ plugins: [
      { name: 'a', builtin: 'a', options: { flag: 1 } }, { name: 'b', builtin: 'b', options: { flag: 2 } },
    ] }), origin: 'cli' as const }];
    // The swap a test makes: its own registry and files in a child container.
    const child = container.createChildContainer();
    child.register(Registry, { useValue: r });
    child.register(PluginFiles, { useValue: files });
    const engine = await createEngine({ parent: child });
    expect(engine.runtimes().map((x) => x.name)).to.deep.equal(['a', 'b']);
    expect(order).to.deep.equal(['client', 'a:the-client:1', 'b:the-client:2']);
    expect(clients).to.equal(1);
  });

  it('refuses a dependency cycle instead of hanging', async () => {
    const r = new Registry();
    r.register({ type: 'client', id: 'p', requires: ['client.q'], init: () => ({}) });
    r.register({ type: 'client', id: 'q', requires: ['client.p'], init: () => ({}) });
    r.register({ type: 'runtime', id: 'z', requires: ['client.p'], init: () => fakeRuntime('z') });
    const child = container.createChildContainer();
    child.register(Registry, { useValue: r });
    child.register(PluginFiles, { useValue: [{ path: pluginsFile({ plugins: [{ name: 'z', builtin: 'z' }] }), origin: 'cli' }] });
    let err: any;
    await createEngine({ parent: child }).catch((e) => { err = e; });
    expect(err?.message).to.match(/cycle: runtime.z -> client.p -> client.q -> client.p/);
  });

  it('resolves with "auto" across runtimes and refuses a name two runtimes know', async () => {
    const r = new Registry();
    r.register({ type: 'runtime', id: 'one', init: () => fakeRuntime('one') });
    r.register({ type: 'runtime', id: 'two', init: () => ({ ...fakeRuntime('two'), resolve: async () => { throw Object.assign(new Error('no'), { code: 'E_NOT_FOUND' }); } }) });
    r.register({ type: 'runtime', id: 'three', init: () => fakeRuntime('three') });
    const files = (names: string[]) => [{ path: pluginsFile({ plugins: names.map((n) => ({ name: n, builtin: n })) }), origin: 'cli' as const }];
    const child = container.createChildContainer();
    child.register(Registry, { useValue: r });
    child.register(PluginFiles, { useValue: files(['one', 'two']) });
    const engine = await createEngine({ parent: child });
    const found = await engine.resolve('auto', 'web');
    expect(found.runtime).to.equal('one');

    const both = container.createChildContainer();
    both.register(Registry, { useValue: r });
    both.register(PluginFiles, { useValue: files(['one', 'two', 'three']) });
    const err = await (await createEngine({ parent: both })).resolve('auto', 'web').catch((e) => e);
    expect(err.code).to.equal('E_AMBIGUOUS');
    expect(err.message).to.contain('one, three');
  });
});
