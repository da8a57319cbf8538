// The text formats of /proc that tierd reads: a process's maps and its stat line. Parsers only;
// the reads themselves are in kernel/linux/procfs.ts.

/** One line of /proc/PID/maps. */
export interface Vma {
  start: number;
  end: number;
  read: boolean;
  write: boolean;
  exec: boolean;
  shared: boolean;
  offset: number;
  dev: string;
  inode: number;
  /** the path or pseudo-name ("[heap]", "[anon:foo]"), "" for plain anonymous memory */
  path: string;
  deleted: boolean;
}

/**
 * Parse /proc/PID/maps text. Paths may hold spaces; a trailing " (deleted)" is split off.
 * Lines that do not parse are skipped: the file is racy and a truncated last line is normal.
 */
export function parseMaps(text: string): Vma[] {
  const out: Vma[] = [];
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const line = text.slice(pos, nl);
    pos = nl + 1;
    const v = parseMapsLine(line);
    if (v) out.push(v);
  }
  return out;
}

const LINE = /^([0-9a-f]+)-([0-9a-f]+) ([r-])([w-])([x-])([ps]) ([0-9a-f]+) (\S+) (\d+)(?: +(.*))?$/;

export function parseMapsLine(line: string): Vma | null {
  const m = LINE.exec(line);
  if (!m) return null;
  let path = m[10] ?? '';
  let deleted = false;
  if (path.endsWith(' (deleted)')) {
    deleted = true;
    path = path.slice(0, -' (deleted)'.length);
  }
  return {
    start: parseInt(m[1]!, 16),
    end: parseInt(m[2]!, 16),
    read: m[3] === 'r',
    write: m[4] === 'w',
    exec: m[5] === 'x',
    shared: m[6] === 's',
    offset: parseInt(m[7]!, 16),
    dev: m[8]!,
    inode: Number(m[9]),
    path,
    deleted,
  };
}

/**
 * A process is (pid, starttime): a pid whose starttime changed is another process, and
 * tierd never touches it with what it learned about the first.
 */
export interface ProcessIdentity {
  pid: number;
  /** field 22 of /proc/PID/stat, in clock ticks since boot */
  starttime: number;
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
