import { expect } from 'chai';
import { cli, json } from '../support/cli';
import { requireRuntime, tool } from '../support/lab';

/** matrix --create: fixtures made from an image, put through the scenarios, and removed. */
describe('matrix --create (real docker)', function () {
  before(async function () {
    await requireRuntime(this, 'docker');
  });

  it('makes its own running and stopped containers, passes them, and leaves none behind', async () => {
    const r = await cli(['matrix', '--runtime', 'docker', '--create', 'scope-lab-busybox', '--format', 'json'],
      { SCOPE_ENGINE_PLUGINS: '' });
    const out = json(r);
    expect(out.rows.map((row: any) => row.label)).to.deep.equal(['docker (--create scope-lab-busybox)']);
    expect(out.failed, JSON.stringify(out.rows[0].results)).to.equal(0);
    expect(out.rows[0].results.stopped.status).to.equal('pass');
    expect(tool('docker', ['ps', '-a', '--format', '{{.Names}}'])).not.to.contain('scope-matrix-');
  });
});
