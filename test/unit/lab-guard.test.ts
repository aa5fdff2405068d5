import { expect } from 'chai';
import type { Context } from 'mocha';
import { requireRuntime } from '../support/lab';

/** The guard every integration suite starts with: skip with a reason outside CI, fail inside it. */
describe('integration guard', () => {
  const saved = process.env.CI;
  afterEach(() => {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  });

  it('with CI=true a runtime the lab should have started fails the run', async () => {
    process.env.CI = 'true';
    let skipped = false;
    const ctx = { skip: () => { skipped = true; } } as unknown as Context;
    const err = await requireRuntime(ctx, 'no-such-runtime').catch((e) => e);
    expect(err?.message).to.match(/^CI: runtime no-such-runtime is not available/);
    expect(skipped).to.equal(false);
  });

  it('outside CI it skips, saying why', async () => {
    delete process.env.CI;
    let skipped = false;
    const ctx = { skip: () => { skipped = true; } } as unknown as Context;
    await requireRuntime(ctx, 'no-such-runtime');
    expect(skipped).to.equal(true);
  });
});
