import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject, injectable } from 'tsyringe';
import { builtinRegistry, createEngine, Options, ConfigFiles, Registry, type Container,
  type ContainerRuntime } from '../../core/index';
import { testContainer } from '../../testing/harness';
import { tempDir } from '../support/tmp';

/** A runtime class that knows every reference (or none), as a registration's `make`. */
function fakeRuntime(name: string, knows = true) {
  @injectable()
  class Fake implements ContainerRuntime {
    readonly name = name;
    async probe() { return { available: true }; }
    async list() { return []; }
    async resolve(ref: string): Promise<Container> {
      if (!knows) throw Object.assign(new Error('no'), { code: 'E_NOT_FOUND' });
      return { runtime: '', id: ref, name: ref, state: 'running', pid: 1, labels: {}, image: '' };
    }
  }
  return Fake;
}

function pluginsFile(doc: unknown): string {
  const path = join(tempDir('registry-'), 'plugins.json');
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

const files = (plugins: object[]) => [{ path: pluginsFile({ plugins }), origin: 'cli' as const }];

/** An engine on `registry` reading only `plugins`. */
function engineOf(registry: Registry, plugins: object[], options = {}) {
  return createEngine({ parent: testContainer({ registry,
    register: (c) => c.register(ConfigFiles, { useValue: files(plugins) }) }), options });
}

describe('registry', () => {
  it('refuses a second registration of the same kind and id, and unregisters with the handle', () => {
    const r = new Registry();
    const off = r.register({ kind: 'runtime', id: 'x', make: fakeRuntime('x') });
    expect(() => r.register({ kind: 'runtime', id: 'x', make: fakeRuntime('x') })).to.throw(/registered twice/);
    off();
    expect(r.get('runtime', 'x')).to.equal(undefined);
  });

  it('has the built-in adapters registered by the composition root importing them', () => {
    expect(builtinRegistry.ids('runtime')).to.include.members(['docker', 'podman', 'ctr', 'nerdctl', 'lxc']);
  });

  it('the library entry alone registers no adapter and loads neither dockerode nor gRPC', () => {
    const entry = join(__dirname, '..', '..', 'core', 'index.js');
    const script = `const e = require(${JSON.stringify(entry)});` +
      'console.log(JSON.stringify({ ids: e.builtinRegistry.ids("runtime"), ' +
      'heavy: Object.keys(require.cache).filter((k) => /node_modules\\/(dockerode|@grpc)\\//.test(k)).length }))';
    expect(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })))
      .to.deep.equal({ ids: [], heavy: 0 });
  });

  it('builds each runtime through DI: one shared client per engine, its options, flags over plugins.json', async () => {
    let made = 0;
    let disposed = 0;
    @injectable()
    class SharedClient {
      constructor() { made++; }
      dispose() { disposed++; }
    }
    const seen: Record<string, Options> = {};
    const withClient = (id: string) => {
      @injectable()
      class Uses extends fakeRuntime(id) {
        constructor(@inject(SharedClient) readonly client: SharedClient, @inject(Options) options: Options) {
          super();
          seen[id] = options;
        }
      }
      return Uses;
    };
    const r = new Registry();
    r.register({ kind: 'client', id: 'shared', make: SharedClient });
    r.register({ kind: 'runtime', id: 'a', make: withClient('a'),
      options: [{ name: 'ns', flag: '--ns <x>', help: '' }] });
    r.register({ kind: 'runtime', id: 'b', make: withClient('b') });
    const engine = await engineOf(r, [{ name: 'a', builtin: 'a', options: { ns: 'file', other: 1 } },
      { name: 'b', builtin: 'b', options: { ns: 'file' } }],
      { ns: 'flag' });
    expect(engine.runtimes().map((x) => x.name)).to.deep.equal(['a', 'b']);
    expect(seen).to.deep.equal({ a: { ns: 'flag', other: 1 }, b: { ns: 'file' } });
    expect(made).to.equal(1);
    await engine.close();
    expect(disposed).to.equal(1);
  });

  it('an entry naming a built-in nobody registered is E_PLUGIN_CONFIG naming it and the ones there are', async () => {
    const r = new Registry();
    r.register({ kind: 'runtime', id: 'one', make: fakeRuntime('one') });
    const err = await engineOf(r, [{ name: 'x', builtin: 'nope' }]).catch((e) => e);
    expect([err.code, err.message])
      .to.satisfy(([c, m]: string[]) => c === 'E_PLUGIN_CONFIG' && m.includes('"nope"') && m.includes('one'));
  });

  it('resolves with "auto" across runtimes and refuses a name two runtimes know', async () => {
    const r = new Registry();
    r.register({ kind: 'runtime', id: 'one', make: fakeRuntime('one') });
    r.register({ kind: 'runtime', id: 'two', make: fakeRuntime('two', false) });
    r.register({ kind: 'runtime', id: 'three', make: fakeRuntime('three') });
    const entries = (names: string[]) => names.map((n) => ({ name: n, builtin: n }));
    const engine = await engineOf(r, entries(['one', 'two']));
    expect((await engine.resolve('auto', 'web')).runtime).to.equal('one');
    const err = await (await engineOf(r, entries(['one', 'two', 'three']))).resolve('auto', 'web').catch((e) => e);
    expect(err.code).to.equal('E_AMBIGUOUS');
    expect(err.message).to.contain('one, three');
  });
});
