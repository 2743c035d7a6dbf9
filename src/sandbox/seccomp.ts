// A seccomp filter that stops the sandboxed command from typing into the user's terminal.
//
// Without a new session, a sandboxed process keeps the user's terminal as its controlling terminal,
// and the TIOCSTI ioctl pushes bytes into that terminal's input queue: after the run ends, the user's
// shell would read and execute them (CVE-2017-5226 against bubblewrap; bwrap's manual says to use
// --new-session or a seccomp filter for TIOCSTI). A new session would cost `/dev/tty`, job control
// and Ctrl-C for interactive programs, so keygate keeps the session and refuses the two ioctls that
// inject input (TIOCSTI; TIOCLINUX, whose TIOCL_PASTESEL pastes on a virtual console) with EPERM.
//
// The program is classic BPF over struct seccomp_data (linux/seccomp.h): nr at offset 0, arch at 4,
// args[i] at 16 + 8i. The ioctl request is an `unsigned int` in the kernel, so only the low 32 bits of
// args[1] count (offset 24 on the little-endian machines listed here). Unknown architectures are
// allowed through: keygate only builds the filter where it knows the syscall numbers.

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO_EPERM = 0x00050000 | 1;

const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;

/** audit arch → ioctl syscall numbers on it (asm/unistd*.h). */
const IOCTL_NUMBERS: Record<string, Array<[arch: number, numbers: number[]]>> = {
  // x86_64, its x32 ABI (__X32_SYSCALL_BIT | 514) and the i386 compat ABI.
  x64: [
    [0xc000003e, [16, 0x40000000 + 514]],
    [0x40000003, [54]],
  ],
  // aarch64 and the 32-bit ARM compat ABI.
  arm64: [
    [0xc00000b7, [29]],
    [0x40000028, [54]],
  ],
};

type Insn = { code: number; jt: number | string; jf: number | string; k: number; label?: string };

/** The filter for this machine's architecture as bytes for `bwrap --seccomp`, or undefined when unknown. */
export function terminalInjectionFilter(arch: string = process.arch): Buffer | undefined {
  const table = IOCTL_NUMBERS[arch];
  if (!table) return undefined;
  const insns: Insn[] = [{ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 4 }];
  table.forEach(([auditArch, numbers], i) => {
    const next = i + 1 < table.length ? `arch${i + 1}` : 'allow';
    insns.push({ code: BPF_JEQ_K, jt: 0, jf: next, k: auditArch, label: i === 0 ? undefined : `arch${i}` });
    insns.push({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 0 });
    numbers.forEach((nr, j) => insns.push({ code: BPF_JEQ_K, jt: 'request', jf: j + 1 < numbers.length ? 0 : 'allow', k: nr }));
  });
  insns.push({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 24, label: 'request' });
  insns.push({ code: BPF_JEQ_K, jt: 'deny', jf: 0, k: TIOCSTI });
  insns.push({ code: BPF_JEQ_K, jt: 'deny', jf: 0, k: TIOCLINUX });
  insns.push({ code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ALLOW, label: 'allow' });
  insns.push({ code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ERRNO_EPERM, label: 'deny' });
  return assemble(insns);
}

/** struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } in host (little-endian) order, labels resolved to relative jumps. */
function assemble(insns: Insn[]): Buffer {
  const at = new Map<string, number>();
  insns.forEach((insn, i) => insn.label && at.set(insn.label, i));
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach((insn, i) => {
    const offset = (target: number | string) => {
      if (typeof target === 'number') return target;
      const delta = at.get(target)! - i - 1;
      if (!(delta >= 0 && delta < 256)) throw new Error(`seccomp jump to ${target} out of range`);
      return delta;
    };
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(offset(insn.jt), i * 8 + 2);
    out.writeUInt8(offset(insn.jf), i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}
