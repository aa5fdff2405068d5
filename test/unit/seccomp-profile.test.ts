import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../base/paths';
import { profileLines, profileOfSpec } from '../../native/seccomp-profile';
import { codeOf } from '../support/codes';
import { tempDir } from '../support/tmp';

/**
 * The OCI specs under fixtures/oci-specs are the config.json of the lab's rootless podman and
 * rootless docker containers, copied as the runtimes wrote them (podman inspect --format
 * '{{.OCIConfigPath}}'; rootless docker's exec root, $XDG_RUNTIME_DIR/docker/containerd/...).
 */
const spec = (name: string) => join(PACKAGE_ROOT, 'fixtures', 'oci-specs', `${name}.json`);
const seccompOf = (name: string) => JSON.parse(readFileSync(spec(name), 'utf8')).linux.seccomp;
describe('seccomp profiles from OCI specs (the fallback of an engine that cannot read live filters)', () => {
  it('flattens podman\'s and docker\'s rootless profiles: default, architectures, a rule per syscall', () => {
    for (const name of ['podman-rootless', 'docker-rootless']) {
      const p = seccompOf(name);
      const lines = profileOfSpec(spec(name))!.trim().split('\n');
      // docker names no errno: EPERM, as runc gives it
      expect(lines[0]).to.equal(`default ERRNO ${p.defaultErrnoRet ?? 1}`);
      const archs = p.architectures.map((a: string) => `arch ${a.slice(10).toLowerCase()}`);
      expect(lines.filter((l) => l.startsWith('arch '))).to.deep.equal(archs);
      const named = p.syscalls.reduce((n: number, r: { names: string[] }) => n + r.names.length, 0);
      expect(lines.filter((l) => l.startsWith('rule '))).to.have.length(named);
      expect(lines).to.include('rule ALLOW 1 personality 0 EQ 8 0');
    }
    // Two arguments tested at once stay one rule (both must hold), as runc adds it.
    expect(profileOfSpec(spec('podman-rootless'))).to.include('rule ERRNO 22 socket 0 EQ 16 0 2 EQ 9 0\n');
    expect(profileOfSpec(spec('docker-rootless'))).to.include('rule ALLOW 1 clone 0 MASKED_EQ 2114060288 0\n');
  });

  it('splits a rule that tests one argument twice into rules of their own, as runc reads it', () => {
    const args = [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }, { index: 1, value: 19, op: 'SCMP_CMP_EQ' }];
    const lines = profileLines({ defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args }] });
    expect(lines).to.equal('default ALLOW 1\nrule ERRNO 13 kill 1 EQ 9 0\nrule ERRNO 13 kill 1 EQ 19 0\n');
  });

  describe('refuses what it could not apply as the runtime does, or that could smuggle a line', () => {
    const base = () => seccompOf('podman-rootless');
    const cases: [string, (p: any) => void][] = [
      ['a listener (SCMP_ACT_NOTIFY)', (p) => { p.syscalls[0].action = 'SCMP_ACT_NOTIFY'; }],
      ['a listener path', (p) => { p.listenerPath = '/run/x.sock'; }],
      ['an unknown action', (p) => { p.defaultAction = 'SCMP_ACT_YES'; }],
      ['a syscall name that carries a second line', (p) => { p.syscalls[0].names = ['read\nrule ALLOW 0 mount']; }],
      ['a syscall name with a space', (p) => { p.syscalls[0].names = ['read 0 EQ 1 1']; }],
      ['an architecture with a newline', (p) => { p.architectures = ['SCMP_ARCH_X86_64\ndefault ALLOW 0']; }],
      ['a negative value', (p) => { p.syscalls[1].args = [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }]; }],
      ['a value past 2^53 (JSON cannot carry it exactly)', (p) => {
        p.syscalls[1].args = [{ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }];
      }],
      ['a string for a number', (p) => { p.syscalls[1].args = [{ index: '0 EQ 1 1', value: 1, op: 'SCMP_CMP_EQ' }]; }],
      ['an unknown comparison', (p) => { p.syscalls[1].args = [{ index: 0, value: 1, op: 'SCMP_CMP_LIKE' }]; }],
      ['an unknown flag', (p) => { p.flags = ['SECCOMP_FILTER_FLAG_NEW_LISTENER']; }],
    ];
    for (const [what, plant] of cases) {
      it(what, async () => {
        const p = base();
        plant(p);
        expect(await codeOf(() => profileLines(p))).to.equal('E_CONFINEMENT');
      });
    }
  });

  it('reads a spec only as a bounded regular file: a FIFO, a symlink, bad JSON are E_CONFINEMENT at once', async () => {
    const dir = tempDir('se-spec-');
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    symlinkSync(spec('podman-rootless'), join(dir, 'link'));
    writeFileSync(join(dir, 'bad'), '{"linux": {"seccomp": ');
    for (const f of ['fifo', 'link', 'bad', 'missing']) {
      expect(await codeOf(() => profileOfSpec(join(dir, f))), f).to.equal('E_CONFINEMENT');
    }
    writeFileSync(join(dir, 'none'), '{"linux": {}}');
    expect(profileOfSpec(join(dir, 'none'))).to.equal(undefined);
  });
});
