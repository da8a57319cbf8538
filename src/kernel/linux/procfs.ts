import { readFileSync } from 'node:fs';
import type { ProcessInfo } from '../types.js';
import { isKernelThread, parseMaps, parseStat, type ProcessIdentity, type Vma } from '../proc-text.js';
import { fsErrorCode, TierdError } from '../../util/errors.js';
import { listDir, readText } from './files.js';

/**
 * A process as its stat line shows it (pid, start time, comm, kernel thread); cmdline, cgroup and
 * RSS are read when first asked for. Target selection looks at every process on the host (every
 * targets.rescan) and filters by comm first: reading four files of each was a few hundred /proc
 * reads each time in the VM, and would be tens of thousands on a busy host.
 */
class ProcProcess implements ProcessInfo {
  private cmd: string | undefined;
  private cg: string | undefined;
  private rss: number | undefined;

  constructor(
    private readonly dir: string,
    readonly pid: number,
    readonly starttime: number,
    readonly comm: string,
    readonly kernelThread: boolean,
  ) {}

  get cmdline(): string {
    this.cmd ??= (readText(`${this.dir}/cmdline`) ?? '').replace(/\0+$/, '').replace(/\0/g, ' ');
    return this.cmd;
  }

  get cgroup(): string {
    this.cg ??= /^0::(.*)$/m.exec(readText(`${this.dir}/cgroup`) ?? '')?.[1] ?? '';
    return this.cg;
  }

  get rssAnonBytes(): number {
    this.rss ??= Number(/RssAnon:\s+(\d+) kB/.exec(readText(`${this.dir}/status`) ?? '')?.[1] ?? 0) * 1024;
    return this.rss;
  }
}

export function readProcess(procRoot: string, pid: number): ProcessInfo | null {
  const statText = readText(`${procRoot}/${pid}/stat`);
  if (statText === undefined) return null;
  const stat = parseStat(statText);
  if (!stat) return null;
  return new ProcProcess(`${procRoot}/${pid}`, pid, stat.starttime, stat.comm, isKernelThread(stat));
}

export function readIdentity(procRoot: string, pid: number): ProcessIdentity | null {
  const stat = parseStat(readText(`${procRoot}/${pid}/stat`) ?? '');
  return stat ? { pid, starttime: stat.starttime } : null;
}

export function listProcesses(procRoot: string): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const name of listDir(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProcess(procRoot, Number(name));
    if (p) out.push(p);
  }
  return out;
}

/** /proc/PID/maps; null when the process is gone. */
export function readMaps(procRoot: string, pid: number): Vma[] | null {
  try {
    return parseMaps(readFileSync(`${procRoot}/${pid}/maps`, 'utf8'));
  } catch (e) {
    const code = fsErrorCode(e);
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new TierdError('PERMISSION', `cannot read /proc/${pid}/maps: ${code}`, 'run tierd as root or grant it CAP_SYS_PTRACE');
    }
    throw e;
  }
}
