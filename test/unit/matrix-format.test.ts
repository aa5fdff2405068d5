import { expect } from 'chai';
import { countOutcomes, formatMarkdown, type MatrixRow } from '../../testing/index';

describe('matrix table', () => {
  const rows: MatrixRow[] = [
    { label: 'docker', runtime: 'docker', available: true, results: { 'resolve-name': { status: 'pass' },
      stopped: { status: 'skip', reason: 'no stopped container given' } } },
    { label: 'lxc', runtime: 'lxc', available: true, results: { 'resolve-name': { status: 'fail',
      reason: 'PID 0 is no live process' }, stopped: { status: 'pass' } } },
  ];

  it('puts a row per runtime and a column per scenario, with the reasons of failures and skips under it', () => {
    expect(formatMarkdown(rows).split('\n')).to.deep.equal([
      '| runtime | resolve by name | stopped container |',
      '|---|---|---|',
      '| docker | ✅ pass | ⏭ skip [1] |',
      '| lxc | ❌ fail [2] | ✅ pass |',
      '',
      '[1] docker / stopped: no stopped container given',
      '[2] lxc / resolve-name: PID 0 is no live process',
    ]);
  });

  it('counts the cells', () => {
    expect(countOutcomes(rows)).to.deep.equal({ passed: 2, failed: 1, skipped: 1 });
  });
});
