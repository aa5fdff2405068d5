import { expect } from 'chai';
import { IdMap } from '../../base/idmap';

describe('ID maps', () => {
  // A rootless-podman-like map: root is the user's own uid, the rest a subordinate range.
  const map = IdMap.parse('         0       1000          1\n         1     100000      65536\n', 'uid');

  it('maps with outside + (id - inside) within each range, both ways', () => {
    expect(map.toHost(0)).to.equal(1000);
    expect(map.toHost(1)).to.equal(100000);
    expect(map.toHost(1000)).to.equal(100999);
    expect(map.toHost(65536)).to.equal(165535);
    expect(map.toContainer(100999)).to.equal(1000);
    expect(map.toContainer(1000)).to.equal(0);
    for (const id of [0, 1, 2, 500, 65536]) expect(map.toContainer(map.toHost(id))).to.equal(id);
  });

  it('refuses an ID in no range, never falling back to host root', () => {
    expect(() => map.toHost(65537)).to.throw(/uid 65537 inside the container has no mapping/)
      .with.property('code', 'E_ID_UNMAPPED');
    expect(() => map.toContainer(0)).to.throw().with.property('code', 'E_ID_UNMAPPED');
    expect(map.toContainerOrOverflow(0)).to.equal(65534);
  });

  it('an empty map (a user namespace nobody mapped) maps nothing', () => {
    expect(() => IdMap.parse('').toHost(0)).to.throw().with.property('code', 'E_ID_UNMAPPED');
  });

  it('knows the initial namespace\'s identity map', () => {
    expect(IdMap.parse('0 0 4294967295').isIdentity()).to.equal(true);
    expect(map.isIdentity()).to.equal(false);
  });
});
