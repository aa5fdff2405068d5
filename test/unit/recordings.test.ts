import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { NOT_RECORDINGS, recordings, REPLAYED } from '../support/recorded';
import { FIXTURES } from '../support/replay';

/**
 * fixtures/ holds an adapter recording directory per runtime, each looped over by that runtime's
 * unit test (*-adapter.test.ts): a directory none replays would be left untested, so it must be
 * one of them or say what else it is.
 */
describe('fixtures/', () => {
  it('every directory is replayed by an adapter test, or named as no recording', () => {
    const dirs = readdirSync(FIXTURES, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(dirs.filter((d) => !(d in NOT_RECORDINGS)).sort()).to.deep.equal([...REPLAYED].sort());
  });

  it('every recording names its call and the runtime\'s own answer (the current recorder wrote it)', () => {
    for (const dir of REPLAYED) expect(recordings(dir), dir).to.not.be.empty;
  });
});
