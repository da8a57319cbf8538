import { readFileSync } from 'node:fs';
import type { ProcessInfo } from '../types.js';
import { parseMaps, type Vma } from '../../targets/maps.js';
import { isKernelThread, parseStat, type ProcessIdentity } from '../../targets/identity.js';
import { fsErrorCode, TierdError } from '../../util/errors.js';
import { listDir, readText } from './files.js';

export function readProcess(procRoot: string, pid: number): ProcessInfo | null {
  const statText = readText(`${procRoot}/${pid}/stat`);
  if (statText === undefined) return null;
  const stat = parseStat(statText);
  if (!stat) return null;
  const status = readText(`${procRoot}/${pid}/status`) ?? '';
  const rss = /RssAnon:\s+(\d+) kB/.exec(status);
  const cmdline = (readText(`${procRoot}/${pid}/cmdline`) ?? '').replace(/\0+$/, '').replace(/\0/g, ' ');
  const cg = /^0::(.*)$/m.exec(readText(`${procRoot}/${pid}/cgroup`) ?? '');
  return {
    pid,
    starttime: stat.starttime,
    comm: stat.comm,
    cmdline,
    cgroup: cg ? cg[1]! : '',
    rssAnonBytes: rss ? Number(rss[1]) * 1024 : 0,
    kernelThread: isKernelThread(stat),
  };
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
