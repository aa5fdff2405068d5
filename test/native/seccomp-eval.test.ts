import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../base/paths';
import { tempDir } from '../support/tmp';

/** Classic BPF opcodes (linux/bpf_common.h), to write the programs below as one reads them. */
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, B = 0x10, IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80;
const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80,
  MOD = 0x90, XOR = 0xa0;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
const K = 0x00, X = 0x08, A = 0x10, TAX = 0x00, TXA = 0x80;

const ALLOW = 0x7fff0000, LOG = 0x7ffc0000, TRACE = 0x7ff00000, NOTIF = 0x7fc00000, ERRNO = 0x00050000,
  TRAP = 0x00030000, KILL_THREAD = 0, KILL_PROCESS = 0x80000000;

/** A syscall number no kernel has: allowed, it fails with ENOSYS, so only the filters' verdict shows. */
const NOSUCH = 1000;
const SIGSYS = 31;
const ARCH = process.arch === 'arm64' ? 0xc00000b7 : 0xc000003e;

type Insn = [code: number, jt: number, jf: number, k: number];
const stmt = (code: number, k = 0): Insn => [code, 0, 0, k];
const jump = (code: number, k: number, jt: number, jf: number): Insn => [code, jt, jf, k];

/** Ends a program with the low six bits of A, plus 64, as an errno: a computed value the kernel reports back. */
const RETURN_A_AS_ERRNO: Insn[] = [stmt(ALU | AND | K, 0x3f), stmt(ALU | OR | K, 0x40), stmt(ALU | OR | K, ERRNO),
  stmt(RET | A)];
/** A = args[0] (its low half), X = args[1]; then `body`, then A as an errno. */
const compute = (...body: Insn[]): Insn[] => [stmt(LD | W | ABS, 24), stmt(MISC | TAX), stmt(LD | W | ABS, 16),
  ...body, ...RETURN_A_AS_ERRNO];
const errnoOf = (v: number) => `errno:${((v >>> 0) & 0x3f) | 0x40}`;

/** A filter that gives `ret` to NOSUCH and allows the rest: an older filter must let the newer ones be installed. */
const onlyNosuch = (ret: number): Insn[] => [stmt(LD | W | ABS, 0), jump(JMP | JEQ | K, NOSUCH, 0, 1),
  stmt(RET | K, ret), stmt(RET | K, ALLOW)];

interface Case {
  name: string;
  args?: number[];
  filters: Insn[][];
  /** Our verdict, as seccomp_action_name words it. */
  expect: string;
  /** The kernel refuses to install it (our verdict is then kill_process). */
  refused?: boolean;
}

/** What the kernel shows of a verdict when the call is made: a signal, an errno, or the call running. */
function kernelOf(c: Case): string {
  if (c.refused) return 'refused';
  if (/^(allow|log|trace|user_notif)$/.test(c.expect)) return 'enosys';
  if (/^(trap|kill_thread|kill_process)$/.test(c.expect)) return `signal:${SIGSYS}`;
  return c.expect;
}

const a0 = 45, a1 = 7;
const CASES: Case[] = [
  { name: 'no filter allows', filters: [], expect: 'allow' },
  ...([[ALLOW, 'allow'], [LOG, 'log'], [TRACE, 'trace'], [NOTIF, 'user_notif'], [ERRNO | 13, 'errno:13'],
    [TRAP, 'trap'], [KILL_THREAD, 'kill_thread'], [KILL_PROCESS, 'kill_process'],
    [0x00060000, 'kill_process']] as const)
    .map(([ret, name]) => ({ name: `RET K ${ret.toString(16)}`, filters: [[stmt(RET | K, ret)]], expect: name })),
  ...([[ADD, a0 + a1], [SUB, a0 - a1], [MUL, a0 * a1], [DIV, Math.floor(a0 / a1)], [AND, a0 & a1], [OR, a0 | a1],
    [XOR, a0 ^ a1], [LSH, a0 << a1], [RSH, a0 >>> a1]] as const).flatMap(([op, v]) => [
    { name: `ALU ${op.toString(16)} X`, filters: [compute(stmt(ALU | op | X))], expect: errnoOf(v) },
    { name: `ALU ${op.toString(16)} K`, filters: [compute(stmt(ALU | op | K, a1))], expect: errnoOf(v) },
  ]),
  { name: 'NEG', filters: [compute(stmt(ALU | NEG))], expect: errnoOf(-a0) },
  { name: 'SUB wraps around 32 bits', args: [3, 5], filters: [compute(stmt(ALU | SUB | X), stmt(ALU | RSH | K, 26))],
    expect: errnoOf((3 - 5) >>> 26) },
  { name: 'a shift by X of 32 or more counts modulo 32', args: [a0, 33], filters: [compute(stmt(ALU | LSH | X))],
    expect: errnoOf(a0 << 1) },
  { name: 'DIV by an X of 0 ends the program with 0: kill_thread', args: [a0, 0],
    filters: [compute(stmt(ALU | DIV | X))], expect: 'kill_thread' },
  { name: 'DIV by a K of 0 is refused', filters: [compute(stmt(ALU | DIV | K, 0))], expect: 'kill_process',
    refused: true },
  { name: 'MOD is refused by seccomp, by X', filters: [compute(stmt(ALU | MOD | X))], expect: 'kill_process',
    refused: true },
  { name: 'MOD is refused by seccomp, by K', filters: [compute(stmt(ALU | MOD | K, 5))], expect: 'kill_process',
    refused: true },
  { name: 'LSH by a K of 32 is refused', filters: [compute(stmt(ALU | LSH | K, 32))], expect: 'kill_process',
    refused: true },
  { name: 'TXA', filters: [compute(stmt(MISC | TXA))], expect: errnoOf(a1) },
  { name: 'LD W LEN and LDX W LEN are the size of seccomp_data', filters: [
    [stmt(LDX | W | LEN), stmt(LD | W | LEN), stmt(ALU | ADD | X), ...RETURN_A_AS_ERRNO]], expect: errnoOf(128) },
  { name: 'LD and LDX IMM', filters: [[stmt(LDX | IMM, 9), stmt(LD | IMM, 4), stmt(ALU | MUL | X),
    ...RETURN_A_AS_ERRNO]], expect: errnoOf(36) },
  { name: 'ST and STX, LD and LDX MEM', filters: [compute(stmt(ST, 3), stmt(STX, 15), stmt(LD | IMM, 0),
    stmt(LDX | MEM, 3), stmt(LD | MEM, 15), stmt(ALU | SUB | X))], expect: errnoOf(a1 - a0) },
  { name: 'reading memory never written is refused', filters: [compute(stmt(LD | MEM, 2))], expect: 'kill_process',
    refused: true },
  { name: 'memory written on one path only is refused where the paths meet', filters: [compute(
    jump(JMP | JEQ | K, 0, 0, 1), stmt(ST, 2), stmt(LD | MEM, 2))], expect: 'kill_process', refused: true },
  { name: 'memory written on every path may be read', filters: [compute(
    jump(JMP | JEQ | K, 0, 0, 2), stmt(ST, 2), jump(JMP | JA, 1, 0, 0), stmt(ST, 2), stmt(LD | MEM, 2))],
  expect: errnoOf(a0) },
  { name: 'memory beyond 16 words is refused', filters: [compute(stmt(ST, 16))], expect: 'kill_process',
    refused: true },
  ...([[JEQ, 45, true], [JEQ, 44, false], [JGT, 44, true], [JGT, 45, false], [JGE, 45, true], [JGE, 46, false],
    [JSET, 4, true], [JSET, 2, false]] as const).flatMap(([op, k, taken]) => [
    { name: `JMP ${op.toString(16)} K ${k}`, filters: [[stmt(LD | W | ABS, 16), jump(JMP | op | K, k, 0, 1),
      stmt(RET | K, ERRNO | 11), stmt(RET | K, ERRNO | 12)]], expect: taken ? 'errno:11' : 'errno:12' },
    { name: `JMP ${op.toString(16)} X ${k}`, args: [a0, k], filters: [[stmt(LD | W | ABS, 24), stmt(MISC | TAX),
      stmt(LD | W | ABS, 16), jump(JMP | op | X, 0, 0, 1), stmt(RET | K, ERRNO | 11), stmt(RET | K, ERRNO | 12)]],
    expect: taken ? 'errno:11' : 'errno:12' },
  ]),
  { name: 'JA skips', filters: [[jump(JMP | JA, 1, 0, 0), stmt(RET | K, ERRNO | 11), stmt(RET | K, ERRNO | 12)]],
    expect: 'errno:12' },
  { name: 'the number, the architecture and both halves of an argument are where seccomp_data has them',
    args: [0x500000003], filters: [[stmt(LD | W | ABS, 0), jump(JMP | JEQ | K, NOSUCH, 0, 7),
      stmt(LD | W | ABS, 4), jump(JMP | JEQ | K, ARCH, 0, 5), stmt(LD | W | ABS, 16), jump(JMP | JEQ | K, 3, 0, 3),
      stmt(LD | W | ABS, 20), jump(JMP | JEQ | K, 5, 0, 1), stmt(RET | K, ERRNO | 21), stmt(RET | K, ERRNO | 22)]],
    expect: 'errno:21' },
  { name: 'a load past seccomp_data is refused', filters: [[stmt(LD | W | ABS, 64), stmt(RET | K, ALLOW)]],
    expect: 'kill_process', refused: true },
  { name: 'an unaligned load is refused', filters: [[stmt(LD | W | ABS, 2), stmt(RET | K, ALLOW)]],
    expect: 'kill_process', refused: true },
  { name: 'a byte load is refused', filters: [[stmt(LD | B | ABS, 0), stmt(RET | K, ALLOW)]],
    expect: 'kill_process', refused: true },
  { name: 'LDX ABS is refused', filters: [[stmt(LDX | W | ABS, 0), stmt(RET | K, ALLOW)]],
    expect: 'kill_process', refused: true },
  { name: 'an indirect load is refused', filters: [[stmt(LD | W | IND, 0), stmt(RET | K, ALLOW)]],
    expect: 'kill_process', refused: true },
  { name: 'a jump past the end is refused', filters: [[jump(JMP | JEQ | K, 0, 1, 0), stmt(RET | K, ALLOW)]],
    expect: 'kill_process', refused: true },
  { name: 'JA past the end is refused', filters: [[jump(JMP | JA, 1, 0, 0), stmt(RET | K, ALLOW)]],
    expect: 'kill_process', refused: true },
  { name: 'a program that does not end in RET is refused', filters: [[stmt(RET | K, ALLOW), stmt(LD | IMM, 0)]],
    expect: 'kill_process', refused: true },
  { name: 'an empty program is refused', filters: [[]], expect: 'kill_process', refused: true },
  { name: 'an unknown opcode is refused', filters: [[stmt(0xff), stmt(RET | K, ALLOW)]], expect: 'kill_process',
    refused: true },
  { name: 'BPF_MAXINSNS instructions are accepted', filters: [[...Array<Insn>(4095).fill(stmt(LD | IMM, 1)),
    stmt(RET | K, ERRNO | 14)]], expect: 'errno:14' },
  { name: 'one more is refused', filters: [[...Array<Insn>(4096).fill(stmt(LD | IMM, 1)), stmt(RET | K, ALLOW)]],
    expect: 'kill_process', refused: true },
  { name: 'of equal actions the newest filter\'s wins', filters: [onlyNosuch(ERRNO | 5), [stmt(RET | K, ERRNO | 7)]],
    expect: 'errno:7' },
  { name: 'of unequal actions the strongest wins, whichever filter gives it', filters: [onlyNosuch(TRAP),
    onlyNosuch(ERRNO | 7), [stmt(RET | K, ALLOW)]], expect: 'trap' },
  { name: 'an errno beats log', filters: [onlyNosuch(ERRNO | 9), [stmt(RET | K, LOG)]], expect: 'errno:9' },
];

describe('seccomp filters judged on the host as the kernel judges them (seccomp-eval.c against the kernel)', () => {
  let harness: string;
  before(function () {
    this.timeout(120_000);
    harness = join(tempDir('se-bpf-'), 'harness');
    execFileSync('cc', ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-I', join(PACKAGE_ROOT, 'native', 'src'), '-o',
      harness, join(PACKAGE_ROOT, 'test', 'native', 'seccomp-eval-harness.c'),
      join(PACKAGE_ROOT, 'native', 'src', 'seccomp-eval.c')]);
  });

  it('every case: our verdict is the expected one, and the kernel, given the same filters, agrees', () => {
    const input = CASES.map((c) => {
      const args = [...(c.args ?? [a0, a1]), 0, 0, 0, 0, 0, 0].slice(0, 6);
      return `${NOSUCH} ${args.join(' ')} ${c.filters.map((f) => `| ${f.map((i) => i.join(' ')).join(', ')}`)
        .join(' ')}\n`;
    }).join('');
    const lines = execFileSync(harness, { input, encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n');
    expect(lines).to.have.length(CASES.length);
    const got = CASES.map((c, i) => `${c.name}: ${lines[i].split(' ').slice(1).join(' ')}`);
    expect(got).to.deep.equal(CASES.map((c) => `${c.name}: ${c.expect} kernel=${kernelOf(c)}`));
  });
});
