/**
 * A process is (pid, starttime): a pid whose starttime changed is another process, and
 * tierd never touches it with what it learned about the first.
 */
export interface ProcessIdentity {
  pid: number;
  /** field 22 of /proc/PID/stat, in clock ticks since boot */
  starttime: number;
}

export function sameProcess(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.pid === b.pid && a.starttime === b.starttime;
}

export function identityKey(p: ProcessIdentity): string {
  return `${p.pid}:${p.starttime}`;
}

export interface StatFields {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  flags: number;
  starttime: number;
  rssPages: number;
}

const PF_KTHREAD = 0x00200000;

/** Parse /proc/PID/stat; comm may hold spaces and parentheses, so split at the last ')'. */
export function parseStat(text: string): StatFields | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state); field N is rest[N - 3]
  if (rest.length < 22) return null;
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0]!,
    ppid: Number(rest[1]),
    flags: Number(rest[6]),
    starttime: Number(rest[19]),
    rssPages: Number(rest[21]),
  };
}

export function isKernelThread(stat: StatFields): boolean {
  return (stat.flags & PF_KTHREAD) !== 0;
}
