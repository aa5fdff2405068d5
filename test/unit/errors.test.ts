import { expect } from 'chai';
import { ErrorCodes, ScopeError, toScopeError } from '../../base/errors';

describe('errors', () => {
  it('gives every code its own exit status, none of them 0', () => {
    const statuses = Object.values(ErrorCodes);
    expect(new Set(statuses).size).to.equal(statuses.length);
    expect(statuses).not.to.include(0);
  });

  it('keeps a ScopeError as it is', () => {
    const e = new ScopeError('E_NOT_FOUND', 'gone');
    expect(toScopeError(e, 'doing')).to.equal(e);
    expect(e.exitCode).to.equal(3);
  });

  it('turns EACCES into E_PERMISSION and says what was being done', () => {
    const errno = Object.assign(new Error('connect EACCES /var/run/docker.sock'), { code: 'EACCES' });
    const e = toScopeError(errno, 'listing docker containers');
    expect(e.code).to.equal('E_PERMISSION');
    expect(e.message).to.equal('listing docker containers: connect EACCES /var/run/docker.sock');
    expect(e.cause).to.equal(errno);
  });

  it('keeps one of our codes set on a plain Error by a third-party adapter', () => {
    const e = toScopeError(Object.assign(new Error('nope'), { code: 'E_NOT_RUNNING' }));
    expect(e.code).to.equal('E_NOT_RUNNING');
  });

  it('makes anything else E_INTERNAL, keeping the cause in JSON', () => {
    const e = toScopeError('a string was thrown');
    expect(e.code).to.equal('E_INTERNAL');
    expect(e.toJSON())
      .to.deep.equal({ code: 'E_INTERNAL', message: 'a string was thrown', cause: 'a string was thrown' });
  });
});
