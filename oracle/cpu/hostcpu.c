/*
 * oracle/cpu/hostcpu.c: the host-CPU oracle helper (issue 4).
 *
 * Runs test cases (a few instruction bytes plus a register, flags and scratch-memory state) on the
 * real processor and reports the state afterwards, or the fault that stopped it. The TypeScript
 * client is test/oracle/hostcpu.ts; the record layout and memory map are specified in docs/oracle.md
 * and must match the constants below.
 *
 * Modes: 64 (64-bit mode, CS 0x33), 32 (compatibility mode, CS 0x23, flat) and 16 (16-bit protected
 * mode under compatibility mode: LDT code segment 0x07 based at the code page, DS/ES/SS = LDT data
 * segment 0x0F based at the scratch area, both with limit 0xFFFF).
 *
 * x87/SSE state: a version-2 case ("OXC2") may carry a 512-byte FXSAVE image that switch.S loads
 * with FXRSTOR64 right before the case (after the XRSTOR reset); its result ("OXR2") carries the
 * FXSAVE64 image after the case, or the signal frame's image at a fault. No FP instruction of the
 * harness runs in between: restore and save are both in switch.S.
 *
 * Protocol: stdin carries case records back to back, stdout receives one result record per case in
 * the same order. With --sync every result is written before the next case starts (the client uses
 * this to find the case that killed a helper); otherwise results are written in 64 KiB chunks.
 *
 * Safety: after setting everything up, the helper installs a seccomp filter before it runs any case.
 * The filter allows read, write, exit_group and rt_sigreturn only when issued from the one SYSCALL
 * instruction in switch.S that the harness uses for each, and only through the 64-bit ABI; anything
 * else (a SYSCALL, SYSENTER or INT 0x80 in a case, whatever its registers) kills the process with
 * SIGSYS. This is stricter than SECCOMP_MODE_STRICT, which would let a case's SYSCALL with RAX=0/1
 * read or write the protocol pipes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

/* ---- The fixed memory map (docs/oracle.md). Everything else near it is PROT_NONE. ---- */
#define GUARD_LO 0x0FFF0000UL
#define CODE_ADDR 0x10000000UL    /* 4 KiB, read+execute; case code at its start, the rest INT3 */
#define SCRATCH_ADDR 0x10010000UL /* 8 KiB (two pages), read+write, zero outside the case's bytes */
#define SCRATCH_SIZE 8192
#define GUARD_HI 0x10020000UL
#define CODE_MAX 64
#define STUB_LEN 5    /* modes 64 and 32: jmp rel32 */
#define STUB16_LEN 8  /* mode 16: jmp far ptr16:32 (66 EA) */
#define SEL16_CODE 0x07

/* ---- Record layout (little-endian). ---- */
#define CASE_MAGIC 0x3143584FU /* "OXC1" */
#define RES_MAGIC 0x3152584FU  /* "OXR1" */
#define CASE_HDR 208
#define RES_HDR 192
/* Version 2 (x87/SSE state): the OXC1 header, then u32 flags and u32 zero (216 bytes), then the
 * 512-byte FXSAVE image when flags bit 0 is set, then the scratch bytes. Its result is OXR2: the
 * OXR1 header, the 512-byte FXSAVE64 image after the case (or at the fault), then the scratch. */
#define CASE2_MAGIC 0x3243584FU /* "OXC2" */
#define RES2_MAGIC 0x3252584FU  /* "OXR2" */
#define CASE2_HDR 216
#define FX_LEN 512
#define C2F_FXIN 1u

enum { OUT_COMPLETED = 0, OUT_FAULT = 1, OUT_TIMEOUT = 2, OUT_UNSUPPORTED = 3, OUT_HARNESS = 4 };

/* Input RFLAGS bits a case may set: CF PF AF ZF SF DF OF AC. TF would trap after the first
 * instruction, IF/IOPL are not writable at CPL 3, and RF/VM/ID are not wanted. */
#define RFLAGS_INPUT_MASK 0x40CD5ULL
#define RFLAGS_RF (1ULL << 16)

/* switch.S */
extern uint64_t oracle_in[20], oracle_out[20], oracle_harness_rsp, oracle_code_entry, oracle_xmask;
extern uint8_t oracle_xinit[4096], oracle_fxin[512], oracle_fxout[512];
extern uint64_t oracle_fxflag;
extern int oracle_enter64(void), oracle_enter32(void), oracle_enter16(void);
extern char oracle_save64[], oracle_save32[], oracle_save16[], oracle_recover[], oracle_harness_begin[],
    oracle_harness_end[], oracle_restorer[];
extern char oracle_sys_read_ip[], oracle_sys_write_ip[], oracle_sys_exit_ip[], oracle_restorer_ip[];
extern long oracle_sys_read(long fd, void *buf, long len);
extern long oracle_sys_write(long fd, const void *buf, long len);
extern void oracle_sys_exit(long code) __attribute__((noreturn));

static uint8_t *code_rw; /* writable alias of the code page */
static uint8_t *const scratch = (uint8_t *)SCRATCH_ADDR;

static volatile int g_in_test;
static volatile uint32_t g_case_serial, g_tick_serial;
static volatile int g_abort_kind;
static volatile int g_mode32;
static struct {
  uint64_t rip, err, addr;
  int signo, vector, code;
} g_fault;

static int have_fsgsbase;
static uint64_t saved_fsbase, saved_gsbase;
static uint16_t saved_ds, saved_es, saved_fs, saved_gs, saved_ss;
static int compat_ok, mode16_ok;
static int sync_mode;

static uint8_t inbuf[1 << 20];
static uint8_t outbuf[1 << 20];
static size_t in_len, in_pos, out_len;
static uint8_t altstack[1 << 16] __attribute__((aligned(64)));

static void die(const char *msg) {
  oracle_sys_write(2, "hostcpu: ", 9);
  oracle_sys_write(2, msg, (long)strlen(msg));
  oracle_sys_write(2, "\n", 1);
  oracle_sys_exit(2);
}

static inline uint16_t rd_sel_ds(void) { uint16_t v; __asm__ volatile("mov %%ds, %0" : "=r"(v)); return v; }
static inline uint16_t rd_sel_es(void) { uint16_t v; __asm__ volatile("mov %%es, %0" : "=r"(v)); return v; }
static inline uint16_t rd_sel_fs(void) { uint16_t v; __asm__ volatile("mov %%fs, %0" : "=r"(v)); return v; }
static inline uint16_t rd_sel_gs(void) { uint16_t v; __asm__ volatile("mov %%gs, %0" : "=r"(v)); return v; }
static inline uint16_t rd_sel_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }

/* Selector i (CS SS DS ES FS GS) of the result, stored after the GPRs and RFLAGS in oracle_out. */
static inline void set_sel(int i, uint16_t v) { memcpy((uint8_t *)&oracle_out[17] + 2 * i, &v, 2); }

/* Puts back what a case may have changed in the harness's own segment state (SDM Vol. 3 3.4.4:
 * in 64-bit mode a selector load into FS/GS also loads the base from the descriptor). The C code
 * never uses TLS, so FS is only needed again by glibc after the helper exits, but keep it exact. */
static inline void restore_segments(void) {
  uint16_t v;
  v = saved_ss; if (rd_sel_ss() != v) __asm__ volatile("mov %0, %%ss" ::"r"(v)); /* 64-bit code may load SS */
  v = saved_ds; if (rd_sel_ds() != v) __asm__ volatile("mov %0, %%ds" ::"r"(v));
  v = saved_es; if (rd_sel_es() != v) __asm__ volatile("mov %0, %%es" ::"r"(v));
  v = saved_fs; if (rd_sel_fs() != v) __asm__ volatile("mov %0, %%fs" ::"r"(v));
  v = saved_gs; if (rd_sel_gs() != v) __asm__ volatile("mov %0, %%gs" ::"r"(v));
  if (have_fsgsbase) {
    __asm__ volatile("wrfsbase %0" ::"r"(saved_fsbase));
    __asm__ volatile("wrgsbase %0" ::"r"(saved_gsbase));
  }
}

/* The fault handler: records the state at the fault from the ucontext and resumes the harness at
 * oracle_recover in 64-bit mode (rt_sigreturn loads CS/SS from the context, so this also leaves
 * compatibility mode). Every signal it handles runs on the alternate stack with all signals blocked. */
static void on_signal(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = (ucontext_t *)ctx;
  greg_t *g = uc->uc_mcontext.gregs;
  __asm__ volatile("pushfq; andq $~0x40400, (%%rsp); popfq" ::: "cc", "memory"); /* AC=0, DF=0 */
  if (!g_in_test) {
    if (sig == SIGVTALRM) return;
    die("signal outside a test case (harness bug)");
  }
  uint64_t rip = (uint64_t)g[REG_RIP];
  int kind;
  if (sig == SIGVTALRM) {
    /* A case still running at two consecutive ticks of the virtual timer has used at least one
     * tick period of CPU time: a loop, never a real instruction. */
    if (g_tick_serial != g_case_serial) { g_tick_serial = g_case_serial; return; }
    kind = OUT_TIMEOUT;
  } else if (rip == (uint64_t)oracle_save64 || rip == (uint64_t)oracle_save32 ||
             rip == (uint64_t)oracle_save16) {
    /* A signal before the first instruction of a save routine: the case completed and its state
     * is exactly the context's. Two ways here: the case set TF in its last instruction, so the
     * single-step #DB comes after the next one, the end stub (SDM Vol. 3 17.3.1.4); or, in mode 32,
     * the case loaded SS with a segment that the save routine's SS-relative stores cannot use. */
    kind = OUT_COMPLETED;
  } else if (rip >= (uint64_t)oracle_harness_begin && rip < (uint64_t)oracle_harness_end) {
    kind = OUT_HARNESS;
  } else {
    kind = OUT_FAULT;
  }
  static const int map[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                              REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};
  for (int i = 0; i < 16; i++) oracle_out[i] = (uint64_t)g[map[i]];
  /* Exception delivery sets RF in the pushed RFLAGS image of a fault (SDM Vol. 3 17.3.1.1); it is
   * not part of the state the instruction left, so it is not reported. */
  oracle_out[16] = (uint64_t)g[REG_EFL] & ~RFLAGS_RF;
  uint64_t csgsfs = (uint64_t)g[REG_CSGSFS];
  set_sel(0, (uint16_t)csgsfs);         /* CS */
  set_sel(1, (uint16_t)(csgsfs >> 48)); /* SS */
  set_sel(2, rd_sel_ds());              /* the kernel leaves DS/ES/FS/GS as the case left them */
  set_sel(3, rd_sel_es());
  set_sel(4, rd_sel_fs());
  set_sel(5, rd_sel_gs());
  /* The x87/SSE state as of the fault: the kernel's signal frame holds it in FXSAVE layout
   * (uc_mcontext.fpregs, the legacy region of its XSAVE image). The handler itself runs with the
   * init state the kernel gives it, and rt_sigreturn puts the frame's state back. */
  if ((oracle_fxflag & 2) && uc->uc_mcontext.fpregs) memcpy(oracle_fxout, uc->uc_mcontext.fpregs, FX_LEN);
  g_fault.rip = rip;
  g_fault.signo = sig;
  g_fault.code = si->si_code;
  g_fault.vector = sig == SIGVTALRM ? 0xFF : (int)g[REG_TRAPNO];
  g_fault.err = sig == SIGVTALRM ? 0 : (uint64_t)g[REG_ERR];
  g_fault.addr = sig == SIGVTALRM ? 0 : (g[REG_TRAPNO] == 14 ? (uint64_t)g[REG_CR2] : (uint64_t)si->si_addr);
  g_abort_kind = kind;

  g[REG_RIP] = (greg_t)oracle_recover;
  g[REG_RSP] = (greg_t)oracle_harness_rsp;
  g[REG_EFL] = 0x202;
  csgsfs = (csgsfs & 0x0000FFFFFFFF0000ULL) | 0x33 | (0x2BULL << 48);
  g[REG_CSGSFS] = (greg_t)csgsfs;
}

/* ---- set-up (all of it before the seccomp filter) ---- */

struct kernel_sigaction {
  void *handler;
  unsigned long flags;
  void *restorer;
  uint64_t mask;
};

static void install_handler(int sig) {
  struct kernel_sigaction ksa;
  memset(&ksa, 0, sizeof ksa);
  ksa.handler = (void *)on_signal;
  ksa.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART | 0x04000000 /* SA_RESTORER */;
  ksa.restorer = oracle_restorer;
  ksa.mask = ~0ULL;
  if (syscall(SYS_rt_sigaction, sig, &ksa, NULL, 8) != 0) die("rt_sigaction failed");
}

static void map_fixed(unsigned long addr, size_t len, int prot, int flags, int fd) {
  void *p = mmap((void *)addr, len, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
  if (p != (void *)addr) {
    static char msg[160];
    snprintf(msg, sizeof msg, "cannot map the fixed oracle address range at %#lx+%#zx (%s)", addr, len,
             p == MAP_FAILED ? strerror(errno) : "placed elsewhere");
    die(msg);
  }
}

static void setup_memory(void) {
  map_fixed(GUARD_LO, CODE_ADDR - GUARD_LO, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
  map_fixed(CODE_ADDR + 4096, SCRATCH_ADDR - CODE_ADDR - 4096, PROT_NONE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
  map_fixed(SCRATCH_ADDR + SCRATCH_SIZE, GUARD_HI - SCRATCH_ADDR - SCRATCH_SIZE, PROT_NONE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
  /* The code page is one memfd page mapped twice: read+execute at CODE_ADDR for the case (a store
   * there faults, as documented) and read+write elsewhere for the harness. */
  int fd = (int)syscall(SYS_memfd_create, "hostcpu-code", 0);
  if (fd < 0 || ftruncate(fd, 4096) != 0) die("memfd_create failed");
  map_fixed(CODE_ADDR, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd);
  code_rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (code_rw == MAP_FAILED) die("mmap of the code alias failed");
  close(fd);
  map_fixed(SCRATCH_ADDR, SCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
  memset(code_rw, 0xCC, 4096);
  memset(scratch, 0, SCRATCH_SIZE);
  oracle_code_entry = CODE_ADDR;
}

/* LDT entry 0: 16-bit code, base CODE_ADDR, limit 0xFFFF; entry 1: 16-bit read/write data, base
 * SCRATCH_ADDR, limit 0xFFFF (SDM Vol. 3 3.4.5). Offsets past the mapped pages reach guard pages
 * (#PF); past 0xFFFF they are outside the limit (#GP, or #SS through SS). */
static int setup_ldt(void) {
  struct {
    unsigned int entry_number, base_addr, limit;
    unsigned int seg_32bit : 1, contents : 2, read_exec_only : 1, limit_in_pages : 1,
        seg_not_present : 1, useable : 1, lm : 1;
  } d;
  memset(&d, 0, sizeof d);
  d.entry_number = 0;
  d.base_addr = (unsigned)CODE_ADDR;
  d.limit = 0xFFFF;
  d.contents = 2; /* code, non-conforming, readable */
  d.useable = 1;
  if (syscall(SYS_modify_ldt, 0x11, &d, sizeof d) != 0) return 0;
  memset(&d, 0, sizeof d);
  d.entry_number = 1;
  d.base_addr = (unsigned)SCRATCH_ADDR;
  d.limit = 0xFFFF;
  d.contents = 0; /* data, expand-up, writable */
  d.useable = 1;
  return syscall(SYS_modify_ldt, 0x11, &d, sizeof d) == 0;
}

static void setup_xstate(void) {
  unsigned a, b, c, d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
  if (!(c & (1u << 27))) die("OSXSAVE is not enabled; cannot reset the x87/SSE/AVX state per case");
  __asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
  oracle_xmask = ((uint64_t)d << 32) | a;
  memset(oracle_xinit, 0, sizeof oracle_xinit);
  uint32_t mxcsr = 0x1F80; /* MXCSR reset value, SDM Vol. 1 10.2.3.1 */
  memcpy(oracle_xinit + 24, &mxcsr, 4);
}

static void setup_segments(void) {
  saved_ds = rd_sel_ds();
  saved_es = rd_sel_es();
  saved_fs = rd_sel_fs();
  saved_gs = rd_sel_gs();
  saved_ss = rd_sel_ss();
  have_fsgsbase = (getauxval(AT_HWCAP2) & 2) != 0; /* HWCAP2_FSGSBASE */
  if (have_fsgsbase) {
    __asm__ volatile("rdfsbase %0" : "=r"(saved_fsbase));
    __asm__ volatile("rdgsbase %0" : "=r"(saved_gsbase));
  }
}

static void setup_signals(void) {
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) die("sigaltstack failed");
  install_handler(SIGSEGV);
  install_handler(SIGBUS);
  install_handler(SIGILL);
  install_handler(SIGFPE);
  install_handler(SIGTRAP);
  install_handler(SIGVTALRM);
}

static void start_timer(void) {
  struct itimerval it = {{0, 25000}, {0, 25000}}; /* 25 ms of user CPU time */
  if (setitimer(ITIMER_VIRTUAL, &it, NULL) != 0) die("setitimer failed");
}

#define F_LDW(off) ((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off)))
#define F_JEQ(k, jt, jf) ((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (jt), (jf)))
#define F_RET(k) ((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (k)))

static void enter_seccomp(void) {
  struct sock_filter f[64];
  int n = 0;
  f[n++] = F_LDW(offsetof(struct seccomp_data, arch));
  f[n++] = F_JEQ(AUDIT_ARCH_X86_64, 1, 0);
  f[n++] = F_RET(SECCOMP_RET_KILL_PROCESS);
  const struct { uint32_t nr; uint64_t ip; } allow[] = {
      {SYS_read, (uint64_t)oracle_sys_read_ip},
      {SYS_write, (uint64_t)oracle_sys_write_ip},
      {SYS_exit_group, (uint64_t)oracle_sys_exit_ip},
      {SYS_rt_sigreturn, (uint64_t)oracle_restorer_ip},
  };
  for (unsigned i = 0; i < sizeof allow / sizeof allow[0]; i++) {
    /* block: nr == N ? (ip == IP ? ALLOW : KILL) : next block */
    f[n++] = F_LDW(offsetof(struct seccomp_data, nr));
    f[n++] = F_JEQ(allow[i].nr, 0, 6);
    f[n++] = F_LDW(offsetof(struct seccomp_data, instruction_pointer));
    f[n++] = F_JEQ((uint32_t)allow[i].ip, 0, 3);
    f[n++] = F_LDW(offsetof(struct seccomp_data, instruction_pointer) + 4);
    f[n++] = F_JEQ((uint32_t)(allow[i].ip >> 32), 0, 1);
    f[n++] = F_RET(SECCOMP_RET_ALLOW);
    f[n++] = F_RET(SECCOMP_RET_KILL_PROCESS);
  }
  f[n++] = F_RET(SECCOMP_RET_KILL_PROCESS);
  struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("PR_SET_NO_NEW_PRIVS failed");
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) die("seccomp filter refused");
}

/* ---- one case ---- */

static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* Runs the case whose record starts at c; writes its result record at r; returns the result size. */
static size_t run_case(const uint8_t *c, uint8_t *r, uint32_t index) {
  unsigned mode = c[4], code_len = c[5];
  unsigned slen = (unsigned)c[6] | ((unsigned)c[7] << 8);
  uint32_t magic;
  memcpy(&magic, c, 4);
  int v2 = magic == CASE2_MAGIC;
  uint32_t c2flags = 0;
  if (v2) memcpy(&c2flags, c + CASE_HDR, 4);
  const uint8_t *cscratch = c + (v2 ? CASE2_HDR + ((c2flags & C2F_FXIN) ? FX_LEN : 0) : CASE_HDR);
  unsigned res_hdr = v2 ? RES_HDR + FX_LEN : RES_HDR;
  if (v2) {
    if (c2flags & C2F_FXIN) memcpy(oracle_fxin, c + CASE2_HDR, FX_LEN);
    memset(oracle_fxout, 0, FX_LEN);
    oracle_fxflag = 2 | ((c2flags & C2F_FXIN) ? 1 : 0);
  } else {
    oracle_fxflag = 0;
  }
  int m32 = mode == 32 || mode == 16; /* 32-bit register results */
  unsigned stub_len = mode == 16 ? STUB16_LEN : STUB_LEN;
  /* Where "completed" leaves RIP: the linear address in modes 64/32, the offset in CS16. */
  uint64_t end_rip = mode == 16 ? code_len : CODE_ADDR + code_len;

  memcpy(code_rw, c + 144, code_len);
  uint8_t *stub = code_rw + code_len;
  if (mode == 16) {
    stub[0] = 0x66; /* JMP ptr16:32 to 0x23:oracle_save16 */
    stub[1] = 0xEA;
    wr32(stub + 2, (uint32_t)(uintptr_t)oracle_save16);
    wr16(stub + 6, 0x23);
  } else {
    int64_t rel = (int64_t)(uintptr_t)(m32 ? oracle_save32 : oracle_save64) -
                  (int64_t)(CODE_ADDR + code_len + STUB_LEN);
    stub[0] = 0xE9; /* JMP rel32 */
    wr32(stub + 1, (uint32_t)(int32_t)rel);
  }
  memcpy(scratch, cscratch, slen);

  for (int i = 0; i < 16; i++) oracle_in[i] = rd64(c + 16 + 8 * i);
  oracle_in[16] = (rd64(c + 8) & RFLAGS_INPUT_MASK) | 2;
  memset(oracle_out, 0, 160);
  memset(&g_fault, 0, sizeof g_fault);
  g_abort_kind = 0;
  g_mode32 = m32;

  int outcome;
  if ((mode == 32 && !compat_ok) || (mode == 16 && !mode16_ok)) {
    outcome = OUT_UNSUPPORTED;
  } else {
    g_case_serial++;
    if (have_fsgsbase) { /* FS/GS bases are 0 during a case, so FS:/GS: accesses are deterministic */
      __asm__ volatile("wrfsbase %0; wrgsbase %0" ::"r"(0UL));
    }
    __asm__ volatile("" ::: "memory");
    g_in_test = 1;
    __asm__ volatile("" ::: "memory");
    int aborted = mode == 64 ? oracle_enter64() : mode == 32 ? oracle_enter32() : oracle_enter16();
    __asm__ volatile("" ::: "memory");
    g_in_test = 0;
    __asm__ volatile("" ::: "memory");
    restore_segments();
    outcome = aborted ? g_abort_kind : OUT_COMPLETED;
    if (aborted && outcome == OUT_COMPLETED) {
      memset(&g_fault, 0, sizeof g_fault);
      if (mode == 16) { /* as oracle_save16 reports them */
        set_sel(0, SEL16_CODE);
        set_sel(1, 0);
      }
    }
  }

  /* Put the code page back to all INT3. */
  memset(code_rw, 0xCC, code_len + stub_len);

  /* Did the case write beyond the bytes it supplied? Then report the whole area. */
  unsigned out_slen = slen;
  {
    const uint64_t *w = (const uint64_t *)scratch;
    unsigned from = slen >> 3;
    uint64_t acc = 0;
    for (unsigned i = slen; i < ((slen + 7) & ~7u) && i < SCRATCH_SIZE; i++) acc |= scratch[i];
    from = (slen + 7) >> 3;
    for (unsigned i = from; i < SCRATCH_SIZE / 8; i++) acc |= w[i];
    if (acc) out_slen = SCRATCH_SIZE;
  }

  wr32(r + 0, v2 ? RES2_MAGIC : RES_MAGIC);
  r[4] = (uint8_t)outcome;
  r[5] = (uint8_t)mode;
  wr16(r + 6, (uint16_t)out_slen);
  wr32(r + 8, index);
  r[12] = (uint8_t)g_fault.signo;
  r[13] = (uint8_t)g_fault.vector;
  wr16(r + 14, (uint16_t)(int16_t)g_fault.code);
  wr64(r + 16, g_fault.err);
  wr64(r + 24, g_fault.addr);
  uint64_t rip = outcome == OUT_COMPLETED ? end_rip : g_fault.rip;
  uint64_t fl = oracle_out[16];
  if (m32) {
    /* SDM Vol. 1 3.4.1.1: the upper halves of the GPRs are undefined after a switch between
     * 64-bit and compatibility mode, and R8-R15 are not reachable: report the low 32 bits of the
     * eight legacy registers only, the rest as zero. */
    for (int i = 0; i < 8; i++) oracle_out[i] &= 0xFFFFFFFFULL;
    for (int i = 8; i < 16; i++) oracle_out[i] = 0;
    rip &= 0xFFFFFFFFULL;
    fl &= 0xFFFFFFFFULL;
  }
  wr64(r + 32, rip);
  wr64(r + 40, outcome == OUT_UNSUPPORTED ? 0 : fl);
  memcpy(r + 48, oracle_out, 128);
  memcpy(r + 176, &oracle_out[17], 12); /* CS SS DS ES FS GS */
  wr32(r + 188, 0);
  if (v2) {
    /* A case that never ran (unsupported mode) reports an all-zero image. */
    if (outcome == OUT_UNSUPPORTED) memset(oracle_fxout, 0, FX_LEN);
    memcpy(r + RES_HDR, oracle_fxout, FX_LEN);
  }
  size_t padded = (out_slen + 7) & ~7u;
  memcpy(r + res_hdr, scratch, out_slen);
  memset(r + res_hdr + out_slen, 0, padded - out_slen);
  memset(scratch, 0, out_slen); /* back to all zero for the next case */
  return res_hdr + padded;
}

/* ---- the loop ---- */

static void flush_out(void) {
  size_t off = 0;
  while (off < out_len) {
    long n = oracle_sys_write(1, outbuf + off, (long)(out_len - off));
    if (n == -EINTR) continue;
    if (n <= 0) oracle_sys_exit(3); /* the client went away */
    off += (size_t)n;
  }
  out_len = 0;
}

/* Makes at least `need` unread bytes available; returns 0 at a clean end of input. */
static int fill(size_t need) {
  if (in_len - in_pos >= need) return 1;
  memmove(inbuf, inbuf + in_pos, in_len - in_pos);
  in_len -= in_pos;
  in_pos = 0;
  flush_out(); /* never block on input with results still buffered */
  while (in_len < need) {
    long n = oracle_sys_read(0, inbuf + in_len, (long)(sizeof inbuf - in_len));
    if (n == -EINTR) continue;
    if (n < 0) die("read from stdin failed");
    if (n == 0) {
      if (in_len == 0) return 0;
      die("input ends inside a case record");
    }
    in_len += (size_t)n;
  }
  return 1;
}

/* Size of the case record at c (its header must be complete). */
static size_t case_size(const uint8_t *c) {
  uint32_t magic, flags = 0;
  memcpy(&magic, c, 4);
  unsigned slen = (unsigned)c[6] | ((unsigned)c[7] << 8);
  if (magic != CASE2_MAGIC) return CASE_HDR + ((slen + 7) & ~7u);
  memcpy(&flags, c + CASE_HDR, 4);
  return CASE2_HDR + ((flags & C2F_FXIN) ? FX_LEN : 0) + ((slen + 7) & ~7u);
}

static void validate(const uint8_t *c) {
  uint32_t magic;
  memcpy(&magic, c, 4);
  unsigned slen = (unsigned)c[6] | ((unsigned)c[7] << 8);
  if (magic != CASE_MAGIC && magic != CASE2_MAGIC) die("bad case record magic (expected \"OXC1\" or \"OXC2\")");
  if (magic == CASE2_MAGIC) {
    uint32_t flags, zero;
    memcpy(&flags, c + CASE_HDR, 4);
    memcpy(&zero, c + CASE_HDR + 4, 4);
    if ((flags & ~C2F_FXIN) != 0 || zero != 0) die("bad OXC2 flags (only bit 0 is defined)");
  }
  if (c[4] != 64 && c[4] != 32 && c[4] != 16) die("bad case mode (expected 64, 32 or 16)");
  if (c[5] > CODE_MAX) die("case code longer than 64 bytes");
  if (slen > SCRATCH_SIZE) die("case scratch longer than 8192 bytes");
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--sync") == 0) sync_mode = 1;
    else die("usage: hostcpu [--sync] < cases > results");
  }
  /* The kernel randomizes the start of the heap (brk) of this static binary over up to 1 GiB after
   * its image, so now and then the heap static glibc sets up lands on the fixed oracle range and the
   * mapping below fails. Run once more without address-space randomization (the layout is then
   * fixed: the heap directly after the image); if the kernel refuses, go on and hope. */
  {
    int pers = personality(0xffffffff);
    if (pers != -1 && !(pers & ADDR_NO_RANDOMIZE) && personality((unsigned long)pers | ADDR_NO_RANDOMIZE) != -1) {
      execv("/proc/self/exe", argv);
      personality((unsigned long)pers); /* exec failed: carry on as we are */
    }
  }
  setup_memory();
  setup_xstate();
  setup_segments();
  setup_signals();

  /* Probe compatibility mode with an empty case (a kernel without IA-32 emulation has no usable
   * 0x23 code segment). */
  {
    static uint8_t probe[CASE_HDR], res[RES_HDR + 8];
    wr32(probe, CASE_MAGIC);
    probe[4] = 32;
    compat_ok = 1;
    run_case(probe, res, 0);
    compat_ok = res[4] == OUT_COMPLETED;
    if (compat_ok && setup_ldt()) {
      probe[4] = 16;
      mode16_ok = 1;
      run_case(probe, res, 0);
      mode16_ok = res[4] == OUT_COMPLETED;
    }
    g_case_serial = 0;
  }
  start_timer();
  enter_seccomp();

  uint32_t index = 0;
  for (;;) {
    if (!fill(CASE_HDR)) break;
    const uint8_t *c = inbuf + in_pos;
    uint32_t magic;
    memcpy(&magic, c, 4);
    if (magic == CASE2_MAGIC && !fill(CASE2_HDR)) die("input ends inside a case record");
    c = inbuf + in_pos;
    validate(c);
    size_t need = case_size(c);
    if (!fill(need)) die("input ends inside a case record");
    c = inbuf + in_pos;
    if (sizeof outbuf - out_len < RES_HDR + FX_LEN + SCRATCH_SIZE) flush_out();
    out_len += run_case(c, outbuf + out_len, index++);
    in_pos += need;
    if (sync_mode) flush_out();
  }
  flush_out();
  oracle_sys_exit(0);
}
