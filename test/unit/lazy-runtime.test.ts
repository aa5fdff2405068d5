import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject, injectable } from 'tsyringe';
import { ConfigFiles, createEngine, Options, Registry, type Container, type ContainerRuntime } from '../../core/index';
import { testContainer } from '../../testing/harness';
import { tempDir } from '../support/tmp';

/** Built-ins that count their constructions; one refuses an option it does not like, as docker's "host" does. */
function counted(built: string[]) {
  @injectable()
  class Plain implements ContainerRuntime {
    readonly name: string = 'plain';
    constructor() { built.push('plain'); }
    async probe() { return { available: true }; }
    async list() { return []; }
    async resolve(ref: string): Promise<Container> {
      return { runtime: '', id: ref, name: ref, state: 'running', pid: 1, labels: {}, image: '' };
    }
  }
  @injectable()
  class Picky extends Plain {
    override readonly name = 'picky';
    constructor(@inject(Options) options: Options) {
      super();
      built.push('picky');
      if (options.level !== undefined && options.level !== 'ok') throw Object.assign(new Error('bad level'),
        { code: 'E_PLUGIN_CONFIG' });
    }
  }
  return { Plain, Picky };
}

function engine(registry: Registry, plugins: object[]) {
  const path = join(tempDir('lazy-'), 'plugins.json');
  writeFileSync(path, JSON.stringify({ plugins }));
  return createEngine({ parent: testContainer({ registry,
    register: (c) => c.register(ConfigFiles, { useValue: [{ path, origin: 'cli' as const }] }) }) });
}

describe('built-ins built when first asked', () => {
  it('an adapter without options is built at its first call, not at load; closing builds none', async () => {
    const built: string[] = [];
    const { Plain } = counted(built);
    const registry = new Registry();
    registry.register({ kind: 'runtime', id: 'plain', make: Plain });
    const e = await engine(registry, [{ name: 'plain', builtin: 'plain' }, { name: 'other', builtin: 'plain' }]);
    expect(built).to.deep.equal([]);
    expect((await e.resolve('plain', 'web')).runtime).to.equal('plain');
    expect(built).to.deep.equal(['plain']);
    await e.close();
    expect(built).to.deep.equal(['plain']);
  });

  it('the engine checks a pinned PID with the built adapter\'s own currentPid, where it has one', async () => {
    const asked: string[] = [];
    @injectable()
    class Checking implements ContainerRuntime {
      readonly name = 'checking';
      async probe() { return { available: true }; }
      async list() { return []; }
      async resolve(ref: string): Promise<Container> {
        asked.push(`resolve ${ref}`);
        return { runtime: '', id: ref, name: ref, state: 'running', pid: 7, labels: {}, image: '' };
      }
      async currentPid(c: Container): Promise<number> {
        asked.push(`currentPid ${c.id}`);
        return 8;
      }
    }
    const registry = new Registry();
    registry.register({ kind: 'runtime', id: 'checking', make: Checking });
    const e = await engine(registry, [{ name: 'checking', builtin: 'checking' }]);
    const c = await e.resolve('checking', 'web');
    expect(await e.runtime('checking').currentPid!(c)).to.equal(8);
    expect(asked).to.deep.equal(['resolve web', 'currentPid web']);
    await e.close();
  });

  it('an adapter given options is built at load, so that a wrong one is refused before anything is done', async () => {
    const built: string[] = [];
    const { Picky } = counted(built);
    const registry = new Registry();
    registry.register({ kind: 'runtime', id: 'picky', make: Picky, options: [{ name: 'level', help: 'x' }] });
    const err = await engine(registry, [{ name: 'picky', builtin: 'picky', options: { level: 'bad' } }])
      .then(() => undefined, (e: { code: string }) => e);
    expect(err?.code).to.equal('E_PLUGIN_CONFIG');
    expect(built).to.include('picky');
  });
});
