/*
 * Running a target's seccomp filters on the host, as the kernel runs them on a system call, so that
 * `doctor` can say what a syscall made inside would meet without anything being started there.
 *
 * A filter is classic BPF restricted as seccomp restricts it when it is installed: the generic checks
 * of classic BPF (known opcodes, jumps inside the program, scratch memory written before it is read on
 * every path, no division by a constant zero, no shift by 32 or more, a RET last) and seccomp's own
 * (only 32-bit loads at aligned offsets inside struct seccomp_data, no packet extensions, no BPF_MOD,
 * no indirect loads). Every filter the kernel gave us passed those checks; a profile compiled here
 * did too, or its installation would fail. A program that does not pass them is one no process can be
 * under, so rather than guess at it we answer KILL_PROCESS, the strictest verdict, and never read
 * outside it or its data.
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "confine.h"

/* seccomp_data.arch as the kernel fills it in for a native system call of this build. */
#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp-eval.c knows the audit architecture of x86_64 and aarch64 only"
#endif

/* Whether `code` is an instruction seccomp installs (after the generic classic BPF checks). */
static bool seccomp_opcode(uint16_t code) {
  switch (code) {
  case BPF_LD | BPF_W | BPF_ABS: case BPF_LD | BPF_W | BPF_LEN: case BPF_LDX | BPF_W | BPF_LEN:
  case BPF_LD | BPF_IMM: case BPF_LDX | BPF_IMM: case BPF_LD | BPF_MEM: case BPF_LDX | BPF_MEM:
  case BPF_ST: case BPF_STX:
  case BPF_MISC | BPF_TAX: case BPF_MISC | BPF_TXA:
  case BPF_RET | BPF_K: case BPF_RET | BPF_A:
  case BPF_ALU | BPF_NEG:
  case BPF_JMP | BPF_JA:
    return true;
  }
  uint16_t op = BPF_OP(code);
  if (BPF_CLASS(code) == BPF_ALU && (code & ~(BPF_OP(0xff) | BPF_SRC(0xff))) == BPF_ALU) {
    /* No BPF_MOD: seccomp never accepted it, so a remainder never decides a verdict. */
    return op == BPF_ADD || op == BPF_SUB || op == BPF_MUL || op == BPF_DIV || op == BPF_AND || op == BPF_OR ||
           op == BPF_XOR || op == BPF_LSH || op == BPF_RSH;
  }
  if (BPF_CLASS(code) == BPF_JMP && (code & ~(BPF_OP(0xff) | BPF_SRC(0xff))) == BPF_JMP)
    return op == BPF_JEQ || op == BPF_JGT || op == BPF_JGE || op == BPF_JSET;
  return false;
}

/*
 * The install-time checks. Scratch memory is followed as the kernel follows it: forward through the
 * program (jumps only go forward), a word counting as written at an instruction only if it is
 * written on every path that reaches it. Being as strict as the kernel, no more and no less, means a
 * verdict we give is about a program that could really be installed.
 */
static bool installable(const struct sock_fprog *p) {
  unsigned len = p->len;
  if (!p->filter || len == 0 || len > BPF_MAXINSNS) return false;
  const struct sock_filter *f = p->filter;
  uint16_t code = f[len - 1].code;
  if (code != (BPF_RET | BPF_K) && code != (BPF_RET | BPF_A)) return false;
  uint16_t written_on_entry[BPF_MAXINSNS];
  memset(written_on_entry, 0xff, len * sizeof *written_on_entry);
  uint16_t written = 0; /* no word is written when the program starts */
  for (unsigned pc = 0; pc < len; pc++) {
    const struct sock_filter *in = &f[pc];
    if (!seccomp_opcode(in->code)) return false;
    written &= written_on_entry[pc];
    unsigned left = len - pc - 1; /* instructions after this one: the farthest a jump may go */
    switch (BPF_CLASS(in->code)) {
    case BPF_LD:
    case BPF_LDX:
      if (BPF_MODE(in->code) == BPF_ABS && (in->k >= sizeof(struct seccomp_data) || in->k & 3)) return false;
      if (BPF_MODE(in->code) == BPF_MEM && (in->k >= BPF_MEMWORDS || !(written & 1u << in->k))) return false;
      break;
    case BPF_ST:
    case BPF_STX:
      if (in->k >= BPF_MEMWORDS) return false;
      written |= (uint16_t)(1u << in->k);
      break;
    case BPF_ALU:
      if (BPF_SRC(in->code) == BPF_K && BPF_OP(in->code) == BPF_DIV && in->k == 0) return false;
      if (BPF_SRC(in->code) == BPF_K && (BPF_OP(in->code) == BPF_LSH || BPF_OP(in->code) == BPF_RSH) && in->k >= 32)
        return false;
      break;
    case BPF_JMP:
      if (BPF_OP(in->code) == BPF_JA) {
        if (in->k >= left) return false;
        written_on_entry[pc + 1 + in->k] &= written;
      } else {
        if (in->jt >= left || in->jf >= left) return false;
        written_on_entry[pc + 1 + in->jt] &= written;
        written_on_entry[pc + 1 + in->jf] &= written;
      }
      /* What follows a jump is reached only by jumping to it, so it knows only what the jumps brought. */
      written = 0xffff;
      break;
    }
  }
  return true;
}

static uint32_t alu(uint16_t op, uint32_t a, uint32_t b) {
  switch (op) {
  case BPF_ADD: return a + b;
  case BPF_SUB: return a - b;
  case BPF_MUL: return a * b;
  case BPF_DIV: return a / b; /* b is not 0: run_filter ends the program first, as the kernel does */
  case BPF_AND: return a & b;
  case BPF_OR: return a | b;
  case BPF_XOR: return a ^ b;
  /* A shift by X counts modulo 32, as the kernel's interpreter and its JITs (the CPUs' 32-bit shifts) do. */
  case BPF_LSH: return a << (b & 31);
  case BPF_RSH: return a >> (b & 31);
  }
  return 0; /* unreachable: installable() let no other operation through */
}

static bool jump_taken(uint16_t op, uint32_t a, uint32_t b) {
  switch (op) {
  case BPF_JEQ: return a == b;
  case BPF_JGT: return a > b;
  case BPF_JGE: return a >= b;
  case BPF_JSET: return (a & b) != 0;
  }
  return false;
}

/* One filter's verdict on `data`. The program was checked whole first, so no index below leaves it. */
static uint32_t run_filter(const struct sock_fprog *p, const struct seccomp_data *data) {
  if (!installable(p)) return SECCOMP_RET_KILL_PROCESS;
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
  unsigned pc = 0;
  for (;;) {
    const struct sock_filter *in = &p->filter[pc++];
    uint32_t operand = BPF_SRC(in->code) == BPF_X ? x : in->k;
    switch (BPF_CLASS(in->code)) {
    case BPF_LD:
    case BPF_LDX: {
      uint32_t v;
      switch (BPF_MODE(in->code)) {
      case BPF_ABS: memcpy(&v, (const char *)data + in->k, sizeof v); break; /* a word of the struct, native order */
      case BPF_LEN: v = sizeof *data; break;
      case BPF_MEM: v = mem[in->k]; break;
      default: v = in->k; break; /* BPF_IMM */
      }
      if (BPF_CLASS(in->code) == BPF_LD) a = v;
      else x = v;
      break;
    }
    case BPF_ST: mem[in->k] = a; break;
    case BPF_STX: mem[in->k] = x; break;
    case BPF_ALU:
      if (BPF_OP(in->code) == BPF_NEG) a = -a;
      /* Classic BPF ends the program with 0 on a division by a zero X; for seccomp 0 is KILL_THREAD. */
      else if (BPF_OP(in->code) == BPF_DIV && operand == 0) return 0;
      else a = alu(BPF_OP(in->code), a, operand);
      break;
    case BPF_JMP:
      if (BPF_OP(in->code) == BPF_JA) pc += in->k;
      else pc += jump_taken(BPF_OP(in->code), a, operand) ? in->jt : in->jf;
      break;
    case BPF_RET:
      return BPF_RVAL(in->code) == BPF_A ? a : in->k;
    case BPF_MISC:
      if (BPF_MISCOP(in->code) == BPF_TAX) x = a;
      else a = x;
      break;
    }
  }
}

/* The kernel's order of actions: the lower as a signed number, the stronger (KILL_PROCESS is negative). */
static int32_t strength(uint32_t ret) { return (int32_t)(ret & SECCOMP_RET_ACTION_FULL); }

uint32_t seccomp_evaluate(const struct confinement *c, int nr, const uint64_t args[6]) {
  struct seccomp_data data;
  memset(&data, 0, sizeof data);
  data.nr = nr;
  data.arch = NATIVE_AUDIT_ARCH;
  data.instruction_pointer = 0;
  memcpy(data.args, args, sizeof data.args);
  uint32_t ret = SECCOMP_RET_ALLOW;
  /* Newest first, as the kernel walks them: on equal actions the newest filter's data (its errno) wins. */
  for (int i = c->nfilters - 1; i >= 0; i--) {
    uint32_t cur = run_filter(&c->filters[i].prog, &data);
    if (strength(cur) < strength(ret)) ret = cur;
  }
  return ret;
}

void seccomp_action_name(uint32_t ret, char *buf, size_t n) {
  const char *name;
  switch (ret & SECCOMP_RET_ACTION_FULL) {
  case SECCOMP_RET_ALLOW: name = "allow"; break;
  case SECCOMP_RET_LOG: name = "log"; break;
  case SECCOMP_RET_ERRNO:
    snprintf(buf, n, "errno:%u", ret & SECCOMP_RET_DATA);
    return;
  case SECCOMP_RET_TRAP: name = "trap"; break;
  case SECCOMP_RET_TRACE: name = "trace"; break;
  case SECCOMP_RET_USER_NOTIF: name = "user_notif"; break;
  case SECCOMP_RET_KILL_THREAD: name = "kill_thread"; break;
  /* An action the kernel does not know kills the process, as KILL_PROCESS does. */
  default: name = "kill_process"; break;
  }
  snprintf(buf, n, "%s", name);
}
