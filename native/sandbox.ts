/**
 * Whether a container's host process is a sandbox rather than the container's own process: gVisor
 * (the host PID a runtime reports is runsc's sandbox, and the container's processes live in its
 * user-space kernel, gvisor#590) or a virtual machine (Kata Containers and the like: they live in a
 * guest kernel). No host namespace reaches into either, so every command that acts inside is refused
 * before it starts, instead of failing halfway at setgroups.
 *
 * Known from the process's executable, and only when that is the host's own file (same device and
 * inode as the file at that path under the host's root): a container cannot run a file of the host's
 * that it was not given, so its own binary named runsc or qemu makes no sandbox of it.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { HostRoot } from './host-root';

export interface Sandbox {
  /** "gVisor", "Kata" or "virtual machine". */
  kind: string;
  /** How it was known, as sentences. */
  how: string[];
}

/** Executables of gVisor and of VM-based runtimes, by the name the host's file has. */
const KNOWN: { kind: string; test: (name: string) => boolean; what: string }[] = [
  { kind: 'gVisor', test: (n) => n === 'runsc' || n === 'runsc-sandbox', what: 'gVisor\'s runsc' },
  { kind: 'Kata', test: (n) => n.startsWith('kata-') || n === 'containerd-shim-kata-v2', what: 'Kata Containers' },
  { kind: 'virtual machine', what: 'a virtual machine monitor',
    test: (n) => /^(qemu-system-.*|qemu-kvm|cloud-hypervisor|firecracker|crosvm|stratovirt)$/.test(n) },
];

/** Descriptors looked at for /dev/kvm: a monitor opens it early, so the first ones are enough. */
const FD_SCAN_MAX = 256;

/** The sandbox the process `pid` is, or undefined for an ordinary container process. */
export function sandboxOf(pid: number, hostRoot: HostRoot): Sandbox | undefined {
  const exe = hostExecutable(pid, hostRoot);
  if (!exe) return undefined;
  const how = [`its host PID ${pid} runs the host's ${exe}`];
  const known = KNOWN.find((k) => k.test(basename(exe)));
  if (known) return { kind: known.kind, how: [`${how[0]}, ${known.what}`] };
  if (holdsKvm(pid)) return { kind: 'virtual machine', how: [...how, 'which holds /dev/kvm open'] };
  return undefined;
}

/** The host path of the process's executable when it is the host's own file, else undefined. */
function hostExecutable(pid: number, hostRoot: HostRoot): string | undefined {
  let path: string;
  let file: { dev: number; ino: number };
  try {
    path = readlinkSync(`/proc/${pid}/exe`);
    file = statSync(`/proc/${pid}/exe`);
  } catch {
    return undefined; // exited, a kernel thread, or not ours to read: the steps after will say so
  }
  // The kernel names a file it cannot reach from our root by its path in its own mount: try both readings.
  for (const candidate of new Set([path, hostRoot.path(path)])) {
    try {
      const st = statSync(candidate);
      if (st.dev === file.dev && st.ino === file.ino) return path;
    } catch {
      // not there: not the host's file under that name
    }
  }
  return undefined;
}

function holdsKvm(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).slice(0, FD_SCAN_MAX).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === '/dev/kvm';
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}
