import { expect } from 'chai';
import { answerOf, encodeFrame } from '../../native/ipc';
import { forTerminal } from '../../base/text';

/** What a hostile container can put on the answer queue (mode 0666): each is refused or made harmless. */
describe('IPC answers from inside a container', () => {
  const frame = (header: object, data: string) => encodeFrame(header, data);

  it('an answer for our request id is taken', () => {
    expect(answerOf([frame({ status: 200, uniq: 7 }, '{"ok":true}')], 7))
      .to.deep.equal({ status: 200, data: { ok: true } });
  });

  it('a frame for another request id is refused, even mixed with ours', () => {
    for (const frames of [[frame({ status: 200, uniq: 8 }, '{}')],
      [frame({ status: 206, uniq: 7 }, 'a'), frame({ status: 200, uniq: 8 }, 'b')]]) {
      expect(() => answerOf(frames, 7)).to.throw(/not for our request/).with.property('code', 'E_RUNTIME_ERROR');
    }
  });

  it('a status that is not an HTTP-like number is refused (never read as success)', () => {
    for (const status of ['abc', 200.5, 99, 600, null, '200']) {
      expect(() => answerOf([frame({ status, uniq: 7 }, '{}')], 7), String(status)).to.throw(/no valid status/);
    }
  });

  it('a header that is not a JSON object is refused', () => {
    expect(() => answerOf([Buffer.from('not json\0x\0')], 7)).to.throw(/header is not a JSON object/);
    expect(() => answerOf([Buffer.from('[1]\0x\0')], 7)).to.throw(/header is not a JSON object/);
  });

  it('text for the terminal has its control characters shown, not obeyed', () => {
    expect(forTerminal('ok\n\x1b]0;owned\x07\x1b[2J\r\u009bdone\tx'))
      .to.equal('ok\n\\x1b]0;owned\\x07\\x1b[2J\\x0d\\x9bdone\tx');
  });
});
