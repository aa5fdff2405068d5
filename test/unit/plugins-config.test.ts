import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, configFilesFor, ScopeError } from '../../core/index';
import { PACKAGE_PLUGINS_FILE } from '../../base/paths';
import { tempDir } from '../support/tmp';

/** Writes a plugins file (raw text or JSON) and returns its path. */
function file(content: unknown, name = 'plugins.json'): string {
  const dir = tempDir('plugins-');
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function refusal(path: string): Promise<ScopeError> {
  const err = await createEngine({ plugins: [path], env: {} }).then(() => undefined, (e) => e);
  expect(err, 'the file should have been refused').to.be.instanceOf(ScopeError);
  expect(err.code).to.equal('E_PLUGIN_CONFIG');
  expect(err.message).to.contain(path);
  return err;
}

describe('plugins.json', () => {
  it('the shipped file loads the built-in docker adapter', async () => {
    const engine = await createEngine({ env: {} });
    const [docker] = engine.runtimes();
    expect(docker).to.include({ name: 'docker', kind: 'builtin', source: 'built-in docker' });
    expect(docker.file.path).to.equal(PACKAGE_PLUGINS_FILE);
  });

  it('refuses malformed JSON', async () => {
    const err = await refusal(file('{ "plugins": [ '));
    expect(err.message).to.match(/not valid JSON/);
  });

  it('refuses an unknown top-level field', async () => {
    const err = await refusal(file({ plugins: [], plugin: [] }));
    expect(err.message).to.contain('"plugin" is not a known field');
  });

  it('refuses an unknown field in an entry, naming the entry', async () => {
    const err = await refusal(file({ plugins: [{ name: 'mine', module: './x.js', optons: {} }] }));
    expect(err.message).to.contain('entry 0 ("mine")');
    expect(err.message).to.contain('"optons" is not a known field');
  });

  it('refuses an entry that says none of builtin, module and command, or two of them', async () => {
    expect((await refusal(file({ plugins: [{ name: 'x' }] }))).message)
      .to.contain('none of "builtin", "module" and "command"');
    expect((await refusal(file({ plugins: [{ name: 'x', builtin: 'docker', module: 'y' }] }))).message)
      .to.contain('both');
  });

  it('refuses a bad name', async () => {
    const err = await refusal(file({ plugins: [{ name: 'Has Spaces', builtin: 'docker' }] }));
    expect(err.message).to.match(/"name" must match pattern/);
  });

  it('refuses a duplicate name within a file and across files, naming both', async () => {
    const dupe = await refusal(file({ plugins: [{ name: 'x', builtin: 'docker' }, { name: 'x', builtin: 'docker' }] }));
    expect(dupe.message).to.contain('entry 1 ("x")');
    const across = await refusal(file({ plugins: [{ name: 'docker', builtin: 'docker' }] }));
    expect(across.message).to.contain(`already taken by entry 0 of ${PACKAGE_PLUGINS_FILE}`);
  });

  it('refuses an unknown built-in, listing the built-ins', async () => {
    const err = await refusal(file({ plugins: [{ name: 'x', builtin: 'rkt' }] }));
    expect(err.message).to.match(/no built-in runtime "rkt"; built-ins are: .*docker/);
  });

  it('refuses a module that does not exist', async () => {
    const err = await refusal(file({ plugins: [{ name: 'x', module: './missing.js' }] }));
    expect(err.message).to.match(/loading module .*missing\.js/);
  });

  it('refuses a module that does not implement ContainerRuntime, saying what is missing', async () => {
    const path = file({ plugins: [{ name: 'half', module: './half.js' }] });
    writeFileSync(join(path, '..', 'half.js'), 'module.exports = { name: "half", probe() {}, list() {} };');
    const err = await refusal(path);
    expect(err.message).to.contain('entry 0 ("half")');
    expect(err.message).to.contain('does not implement ContainerRuntime: it has no resolve() method');
  });

  it('refuses an npm package that is not installed', async () => {
    const err = await refusal(file({ plugins: [{ name: 'x', module: 'scope-engine-adapter-nonexistent' }] }));
    expect(err.message).to.contain('cannot find npm package "scope-engine-adapter-nonexistent"');
  });

  it('refuses a file named by the user that does not exist', async () => {
    const err = await refusal('/nonexistent/plugins.json');
    expect(err.message).to.contain('no such file');
  });

  it('reads SCOPE_ENGINE_PLUGINS and the user file, in order after the package file', () => {
    const home = tempDir('home-');
    mkdirSync(join(home, '.config', 'scope-engine'), { recursive: true });
    writeFileSync(join(home, '.config', 'scope-engine', 'plugins.json'), '{"plugins":[]}');
    const files = configFilesFor({ HOME: home, SCOPE_ENGINE_PLUGINS: '/a.json:/b.json' }, ['/c.json']);
    expect(files.map((f) => [f.origin, f.path]).filter(([o]) => o !== 'system')).to.deep.equal([
      ['package', PACKAGE_PLUGINS_FILE],
      ['user', join(home, '.config', 'scope-engine', 'plugins.json')],
      ['env', '/a.json'], ['env', '/b.json'], ['cli', '/c.json'],
    ]);
  });
});
