import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../base/paths';
import { HostRoot, inHostNamespace } from '../../native/host-root';
import { codeOf } from '../support/codes';
import { tempDir } from '../support/tmp';

/**
 * Host paths under a host root are resolved as the host resolves them (openat2 RESOLVE_IN_ROOT):
 * a stand-in host whose /var/run is an absolute link to /run, as Debian's is, and links that try
 * to climb out. Then the engine in a "container" of its own making (a mount namespace, chrooted into
 * a directory with the host's / mounted at /hostfs, as `docker run -v /:/hostfs` does) finds the
 * host's root by itself, and one without that mount knows it cannot see the host.
 */
describe('host root', () => {
  function standIn(): string {
    const root = tempDir('host-root-');
    mkdirSync(join(root, 'run', 'podman'), { recursive: true });
    mkdirSync(join(root, 'var'));
    symlinkSync('/run', join(root, 'var', 'run'));
    writeFileSync(join(root, 'run', 'podman', 'podman.sock'), '');
    symlinkSync('../../../../../../etc', join(root, 'run', 'up'));
    return root;
  }

  it('follows an absolute link inside the root, where a join would leave it for the engine\'s own /run', () => {
    const root = standIn();
    const host = new HostRoot(root, { check: false });
    expect(host.path('/var/run/podman/podman.sock')).to.equal(join(root, 'run', 'podman', 'podman.sock'));
    expect(readlinkSync(join(root, 'var', 'run'))).to.equal('/run');
  });

  it('keeps ".." and relative links that climb at the root, found or not', () => {
    const root = standIn();
    const host = new HostRoot(root, { check: false });
    expect(host.path('/../../run/podman')).to.equal(join(root, 'run', 'podman'));
    // run/up climbs to the real /etc by a join; in the root it is the stand-in's /etc, missing, then made.
    expect(host.path('/run/up/passwd')).to.equal(join(root, 'etc', 'passwd'));
    mkdirSync(join(root, 'etc'));
    expect(host.path('/run/up')).to.equal(join(root, 'etc'));
  });

  it('names a missing file by its deepest directory found in the root, never through a link out of it', () => {
    const root = standIn();
    const host = new HostRoot(root, { check: false });
    expect(host.path('/var/run/docker.sock')).to.equal(join(root, 'run', 'docker.sock'));
    expect(host.path('/no/such/dir/x.sock')).to.equal(join(root, 'no', 'such', 'dir', 'x.sock'));
  });

  it('leaves a user\'s own paths alone, and resolves those under the root as the host would', () => {
    const root = standIn();
    const host = new HostRoot(root, { check: false });
    expect(host.userPath('/etc/hostname')).to.equal('/etc/hostname');
    expect(host.userPath(`${root}/var/run/podman/podman.sock`)).to.equal(join(root, 'run', 'podman', 'podman.sock'));
    expect(host.contained).to.equal(true);
  });

  it('on the host: "/", visible, paths unchanged, the host\'s network namespace', () => {
    const host = new HostRoot();
    expect([host.dir, host.visible, host.contained]).to.deep.equal(['/', true, false]);
    expect(host.path('/var/run/docker.sock')).to.equal('/var/run/docker.sock');
    expect(inHostNamespace('net')).to.equal(true);
  });

  it('refuses a --host-root that is relative, missing, a file, or not the host\'s root, as a usage error', async () => {
    const file = join(tempDir('host-root-file-'), 'f');
    writeFileSync(file, '');
    for (const dir of ['hostfs', '/no/such/host-root', file, tempDir('not-the-host-')]) {
      expect(await codeOf(() => new HostRoot(dir)), dir).to.equal('E_USAGE');
    }
    expect(new HostRoot('/').dir).to.equal('/');
  });

  describe('in a container of its own', () => {
    /** What the engine in a chroot (a mount namespace of its own) finds; `hostfs`: mount the host's / there. */
    function lookFromInside(hostfs: boolean, given?: string): { dir?: string; visible?: boolean; path?: string;
      code?: string } {
      const r = tempDir('host-root-ctr-');
      const probe = `
        const { HostRoot } = require(${JSON.stringify(join(PACKAGE_ROOT, 'dist', 'native', 'host-root.js'))});
        try {
          const h = new HostRoot(${given === undefined ? '' : JSON.stringify(given)});
          console.log(JSON.stringify({ dir: h.dir, visible: h.visible, path: h.path('/var/run/probe.sock') }));
        } catch (e) { console.log(JSON.stringify({ code: e.code })); }`;
      // Debian's merged /usr: /bin, /lib and /lib64 are links into it. /dev and /proc for node; the
      // package at its own path. The namespace, and with it every mount, ends with the shell.
      const script = `set -e
        for d in usr dev proc hostfs "${PACKAGE_ROOT}"; do mkdir -p "$R/$d"; done
        for l in bin lib lib64; do ln -s "usr/$l" "$R/$l"; done
        mount --rbind /usr "$R/usr"; mount --rbind /dev "$R/dev"; mount -t proc proc "$R/proc"
        mount --bind "${PACKAGE_ROOT}" "$R${PACKAGE_ROOT}"
        ${hostfs ? 'mount --rbind / "$R/hostfs"' : ''}
        exec chroot "$R" /usr/bin/node -e "$PROBE"`;
      const out = execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script],
        { env: { PATH: process.env.PATH, R: r, PROBE: probe }, encoding: 'utf8' });
      return JSON.parse(out);
    }

    it('finds the host\'s / mounted at /hostfs, and resolves /var/run there', () => {
      expect(lookFromInside(true)).to.deep.equal({ dir: '/hostfs', visible: true, path: '/hostfs/run/probe.sock' });
    });

    it('without that mount, knows that what it sees is not the host', () => {
      expect(lookFromInside(false)).to.include({ dir: '/', visible: false });
    });

    it('refuses a --host-root that is not the host\'s root', () => {
      expect(lookFromInside(true, '/usr')).to.deep.equal({ code: 'E_USAGE' });
      expect(lookFromInside(true, '/hostfs')).to.include({ dir: '/hostfs' });
    });
  });
});
