/*
 * oracle/cpu/switch.S: the register switch between the harness and one test case.
 *
 * The test code may clobber every register, so nothing here trusts a register the test touched:
 * state moves through fixed absolute addresses (the binary is static, non-PIE, linked below 2 GiB,
 * so [disp32] reaches every symbol from 64-bit code and from 32-bit compatibility-mode code).
 *
 * Layout of oracle_in / oracle_out (struct oracle_regs in hostcpu.c):
 *   0..127  GPRs RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 (x86 encoding order), 8 bytes each
 *   128     RFLAGS
 *   136     selectors CS SS DS ES FS GS (2 bytes each, out only)
 *
 * Entry (64-bit): XRSTOR the init state (x87/SSE/AVX reset, so no harness state leaks into a case),
 * then, for an OXC2 case that carries one, FXRSTOR64 its FXSAVE image (oracle_fxflag bit 0);
 * load RFLAGS with POPFQ from a private low stack, load the GPRs (RSP last), jump to the code page.
 * Entry (32-bit compatibility mode, SDM Vol. 1 3.4.1.1 / Vol. 3 5.8.1): far return to the 32-bit
 * user code selector 0x23 of x86-64 Linux, then POPFD and the eight legacy GPRs.
 * The case code is followed by "jmp rel32" to oracle_save64 / oracle_save32, which store the GPRs
 * before touching anything, switch to the private stack and PUSHF the flags. In compatibility mode
 * the stores carry an SS override: the test may have loaded an unusable selector into DS/ES, but
 * SS can only hold a writable data segment at CPL 3.
 * With oracle_fxflag bit 1 the end paths FXSAVE64 the x87/SSE state in 64-bit mode right after the
 * GPRs and flags are stored (no FP instruction of the harness runs between FXRSTOR64 and FXSAVE64).
 * A fault or a timeout instead enters the signal handler (hostcpu.c), which records the state from
 * the ucontext and resumes at oracle_recover with the harness RSP, CS=0x33 and clean RFLAGS.
 */
	.intel_syntax noprefix

	.bss
	.balign 64
	.globl oracle_in, oracle_out, oracle_harness_rsp, oracle_code_entry, oracle_xinit, oracle_xmask
	.globl oracle_fxin, oracle_fxout, oracle_fxflag
oracle_fxin:		.space 512	/* FXSAVE image loaded before an OXC2 case (FXRSTOR64) */
oracle_fxout:		.space 512	/* FXSAVE image after it (FXSAVE64, or the signal context's) */
oracle_fxflag:		.space 8	/* bit 0: FXRSTOR64 oracle_fxin; bit 1: FXSAVE64 into oracle_fxout */
oracle_in:		.space 160
oracle_out:		.space 160
oracle_harness_rsp:	.space 8
oracle_code_entry:	.space 8
oracle_xmask:		.space 8
	.balign 16
oracle_lowstack:	.space 512
oracle_lowstack_top:
	.balign 64
oracle_xinit:		.space 4096	/* XSAVE area of the init state, filled in by hostcpu.c */

	.data
	.globl oracle_sel_flat, oracle_sel16_data, oracle_far16
oracle_sel_flat:	.word 0x2b	/* __USER_DS */
oracle_sel16_data:	.word 0x0f	/* LDT entry 1, RPL 3: 16-bit data, base = scratch (hostcpu.c) */
	.balign 8
oracle_far16:		.long 0		/* far pointer CS16:0, LDT entry 0, RPL 3 */
			.word 0x07

	.text
	.globl oracle_harness_begin, oracle_harness_end
	.globl oracle_enter64, oracle_enter32, oracle_save64, oracle_save32, oracle_recover
	.globl oracle_enter16, oracle_save16
	.globl oracle_sys_read, oracle_sys_write, oracle_sys_exit, oracle_restorer
	.globl oracle_sys_read_ip, oracle_sys_write_ip, oracle_sys_exit_ip, oracle_restorer_ip

oracle_harness_begin:

/* Resets x87/SSE/AVX to the init state (XSTATE_BV = 0 in oracle_xinit, MXCSR = 0x1F80). */
.macro XRESET
	mov eax, dword ptr [oracle_xmask]
	mov edx, dword ptr [oracle_xmask + 4]
	xrstor64 [oracle_xinit]
	test byte ptr [oracle_fxflag], 1
	jz 9f
	fxrstor64 [oracle_fxin]	/* the case's x87/SSE state; it persists across the mode switch */
9:
.endm

/* After a completed case, in 64-bit mode and before any FP instruction of the harness: FXSAVE64 is
 * non-waiting (SDM Vol. 2 FXSAVE), so a pending unmasked x87 exception is saved, not raised. */
.macro FXOUT
	test byte ptr [oracle_fxflag], 2
	jz 8f
	fxsave64 [oracle_fxout]
8:
.endm

/* int oracle_enter64(void): runs the case in 64-bit mode; returns 0 when the code reached its end
 * stub, 1 when the signal handler aborted it (fault or timeout). */
oracle_enter64:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	mov qword ptr [oracle_harness_rsp], rsp
	XRESET
	mov esp, offset oracle_lowstack_top
	push qword ptr [oracle_in + 128]
	popfq
	mov rax, qword ptr [oracle_in + 0]
	mov rcx, qword ptr [oracle_in + 8]
	mov rdx, qword ptr [oracle_in + 16]
	mov rbx, qword ptr [oracle_in + 24]
	mov rbp, qword ptr [oracle_in + 40]
	mov rsi, qword ptr [oracle_in + 48]
	mov rdi, qword ptr [oracle_in + 56]
	mov r8,  qword ptr [oracle_in + 64]
	mov r9,  qword ptr [oracle_in + 72]
	mov r10, qword ptr [oracle_in + 80]
	mov r11, qword ptr [oracle_in + 88]
	mov r12, qword ptr [oracle_in + 96]
	mov r13, qword ptr [oracle_in + 104]
	mov r14, qword ptr [oracle_in + 112]
	mov r15, qword ptr [oracle_in + 120]
	mov rsp, qword ptr [oracle_in + 32]
	jmp qword ptr [oracle_code_entry]

oracle_save64:
	mov qword ptr [oracle_out + 0], rax
	mov qword ptr [oracle_out + 8], rcx
	mov qword ptr [oracle_out + 16], rdx
	mov qword ptr [oracle_out + 24], rbx
	mov qword ptr [oracle_out + 32], rsp
	mov qword ptr [oracle_out + 40], rbp
	mov qword ptr [oracle_out + 48], rsi
	mov qword ptr [oracle_out + 56], rdi
	mov qword ptr [oracle_out + 64], r8
	mov qword ptr [oracle_out + 72], r9
	mov qword ptr [oracle_out + 80], r10
	mov qword ptr [oracle_out + 88], r11
	mov qword ptr [oracle_out + 96], r12
	mov qword ptr [oracle_out + 104], r13
	mov qword ptr [oracle_out + 112], r14
	mov qword ptr [oracle_out + 120], r15
	mov esp, offset oracle_lowstack_top
	pushfq
	pop qword ptr [oracle_out + 128]
	mov word ptr [oracle_out + 136], cs
	mov word ptr [oracle_out + 138], ss
	mov word ptr [oracle_out + 140], ds
	mov word ptr [oracle_out + 142], es
	mov word ptr [oracle_out + 144], fs
	mov word ptr [oracle_out + 146], gs
	FXOUT
	xor eax, eax
	jmp 1f

/* The signal handler resumes here with RSP = oracle_harness_rsp, CS = 0x33, RFLAGS = 0x202. */
oracle_recover:
	mov eax, 1
1:	mov rsp, qword ptr [oracle_harness_rsp]
	push 2			/* clears DF, AC and TF for the C code (IF is not writable at CPL 3) */
	popfq
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

oracle_enter32:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	mov qword ptr [oracle_harness_rsp], rsp
	XRESET
	mov esp, offset oracle_lowstack_top
	mov eax, 0x2b		/* __USER_DS: compatibility mode faults on a null DS/ES */
	mov ds, eax
	mov es, eax
	push 0x23		/* __USER32_CS */
	push offset oracle_compat_entry
	rex64 retf

	.code32
oracle_compat_entry:
	push dword ptr [oracle_in + 128]
	popfd
	mov eax, dword ptr [oracle_in + 0]
	mov ecx, dword ptr [oracle_in + 8]
	mov edx, dword ptr [oracle_in + 16]
	mov ebx, dword ptr [oracle_in + 24]
	mov ebp, dword ptr [oracle_in + 40]
	mov esi, dword ptr [oracle_in + 48]
	mov edi, dword ptr [oracle_in + 56]
	mov esp, dword ptr [oracle_in + 32]
	jmp dword ptr [oracle_code_entry]

oracle_save32:
	mov dword ptr ss:[oracle_out + 0], eax
	mov dword ptr ss:[oracle_out + 8], ecx
	mov dword ptr ss:[oracle_out + 16], edx
	mov dword ptr ss:[oracle_out + 24], ebx
	mov dword ptr ss:[oracle_out + 32], esp
	mov dword ptr ss:[oracle_out + 40], ebp
	mov dword ptr ss:[oracle_out + 48], esi
	mov dword ptr ss:[oracle_out + 56], edi
	mov esp, offset oracle_lowstack_top
	pushfd
	pop dword ptr ss:[oracle_out + 128]
	mov word ptr ss:[oracle_out + 136], cs
	mov word ptr ss:[oracle_out + 138], ss
	mov word ptr ss:[oracle_out + 140], ds
	mov word ptr ss:[oracle_out + 142], es
	mov word ptr ss:[oracle_out + 144], fs
	mov word ptr ss:[oracle_out + 146], gs
	push 0x33		/* __USER_CS */
	push offset oracle_back64
	retf

	.code64
oracle_back64:
	FXOUT
	xor eax, eax
	jmp 1b

/* Mode 16: 16-bit protected-mode code under compatibility mode (a 16-bit LDT code segment). The
 * harness passes through the flat 0x23 segment to load the state, then loads DS/ES/SS with the
 * 16-bit data segment (based at the scratch area) and jumps far to CS16:0. */
oracle_enter16:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	mov qword ptr [oracle_harness_rsp], rsp
	XRESET
	mov esp, offset oracle_lowstack_top
	mov eax, 0x2b
	mov ds, eax
	mov es, eax
	push 0x23
	push offset oracle_compat16_entry
	rex64 retf

	.code32
oracle_compat16_entry:
	push dword ptr [oracle_in + 128]
	popfd
	mov eax, dword ptr [oracle_in + 0]
	mov ecx, dword ptr [oracle_in + 8]
	mov edx, dword ptr [oracle_in + 16]
	mov ebx, dword ptr [oracle_in + 24]
	mov ebp, dword ptr [oracle_in + 40]
	mov esi, dword ptr [oracle_in + 48]
	mov edi, dword ptr [oracle_in + 56]
	mov es, word ptr [oracle_sel16_data]
	mov esp, dword ptr [oracle_in + 32]
	mov ss, word ptr [oracle_sel16_data]
	mov ds, word ptr [oracle_sel16_data]
	jmp fword ptr cs:[oracle_far16]

/* Reached from the mode-16 end stub "jmp far 0x23:oracle_save16". Every segment register may hold
 * a 16-bit segment here, so SS is first reloaded with the flat selector through CS (readable):
 * the case's SS selector is therefore not reported in mode 16. */
oracle_save16:
	mov ss, word ptr cs:[oracle_sel_flat]
	mov dword ptr ss:[oracle_out + 0], eax
	mov dword ptr ss:[oracle_out + 8], ecx
	mov dword ptr ss:[oracle_out + 16], edx
	mov dword ptr ss:[oracle_out + 24], ebx
	mov dword ptr ss:[oracle_out + 32], esp
	mov dword ptr ss:[oracle_out + 40], ebp
	mov dword ptr ss:[oracle_out + 48], esi
	mov dword ptr ss:[oracle_out + 56], edi
	mov esp, offset oracle_lowstack_top
	pushfd
	pop dword ptr ss:[oracle_out + 128]
	mov word ptr ss:[oracle_out + 136], 0x07
	mov word ptr ss:[oracle_out + 138], 0
	mov word ptr ss:[oracle_out + 140], ds
	mov word ptr ss:[oracle_out + 142], es
	mov word ptr ss:[oracle_out + 144], fs
	mov word ptr ss:[oracle_out + 146], gs
	push 0x33
	push offset oracle_back64
	retf
	.code64

/* Raw system calls. The seccomp filter allows each number only from the address after its own
 * SYSCALL instruction (seccomp_data.instruction_pointer), so a SYSCALL in a case is always killed. */
oracle_sys_read:
	xor eax, eax
	syscall
oracle_sys_read_ip:
	ret

oracle_sys_write:
	mov eax, 1
	syscall
oracle_sys_write_ip:
	ret

oracle_sys_exit:
	mov eax, 231		/* exit_group */
	syscall
oracle_sys_exit_ip:
	ud2

oracle_restorer:		/* SA_RESTORER trampoline for rt_sigreturn */
	mov eax, 15
	syscall
oracle_restorer_ip:
	ud2

oracle_harness_end:
	.section .note.GNU-stack,"",@progbits
