import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/tmp';

const VERSION: string = require('../../../package.json').version;

/**
 * The CLI's loader (cli/start.ts, installed as dist/cli/main.js) and the code cache it keeps beside
 * the bundle, on a copy of the two files: the cache is made by a first run, used by the next, made
 * again for another build, and never trusted when someone else could have written it.
 */
describe('the CLI\'s code cache', () => {
  function install(): { main: string; cache: string; bundle: string } {
    const dir = join(tempDir('start-'), 'dist', 'cli');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    for (const f of ['main.js', 'bundle.js']) copyFileSync(join(__dirname, '..', '..', 'cli', f), join(dir, f));
    return { main: join(dir, 'main.js'), cache: join(dir, 'bundle.js.cache'), bundle: join(dir, 'bundle.js') };
  }
  const version = (main: string) => execFileSync(process.execPath, [main, '--version'], { encoding: 'utf8' }).trim();

  it('a first run makes it, owned by this user and writable by nobody else; later runs keep it', () => {
    const { main, cache } = install();
    expect(version(main)).to.equal(VERSION);
    const st = statSync(cache);
    expect([st.uid, st.mode & 0o777]).to.deep.equal([process.getuid!(), 0o644]);
    const made = readFileSync(cache);
    expect(version(main)).to.equal(VERSION);
    expect(readFileSync(cache).equals(made), 'a good cache was made again').to.equal(true);
  });

  it('one made for another build of the bundle is not used, and is made again', () => {
    const { main, cache, bundle } = install();
    version(main);
    const made = readFileSync(cache);
    utimesSync(bundle, new Date(), new Date(Date.now() + 5000)); // another build: same length, other time
    expect(version(main)).to.equal(VERSION);
    expect(readFileSync(cache).equals(made)).to.equal(false);
  });

  it('a planted one, writable by others or not V8\'s, runs nothing of its own and is replaced', () => {
    const { main, cache } = install();
    writeFileSync(cache, 'scope-test-marker-7f3a: not a cache at all');
    chmodSync(cache, 0o666);
    expect(version(main)).to.equal(VERSION);
    const st = statSync(cache);
    expect(st.mode & 0o777).to.equal(0o644);
    expect(readFileSync(cache, 'latin1')).not.to.contain('scope-test-marker-7f3a');
    // Trusted by its mode but garbage after the right key: V8 refuses it, and it is made again.
    const key = readFileSync(cache).subarray(0, readFileSync(cache).indexOf(10) + 1);
    writeFileSync(cache, Buffer.concat([key, Buffer.from('scope-test-marker-9c1e where V8 expects its own data')]));
    chmodSync(cache, 0o644);
    expect(version(main)).to.equal(VERSION);
    expect(readFileSync(cache).subarray(key.length).toString('latin1')).not.to.contain('scope-test-marker-9c1e');
  });
});
