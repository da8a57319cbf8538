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

const SPECIAL_NEVER = new Set(['[vsyscall]', '[vvar]', '[vdso]', '[vvar_vclock]', '[uprobes]']);

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

export function isAnonymous(v: Vma): boolean {
  return v.inode === 0 && (v.path === '' || v.path === '[heap]' || v.path === '[stack]' || v.path.startsWith('[anon:') || v.path.startsWith('[stack:'));
}

export interface VmaFilterOptions {
  /** Also take private read-only file mappings (which the idle_pages walk skips; page_idle sees them). */
  includeFilePrivate?: boolean;
  /** Smallest VMA worth tracking, in bytes. */
  minBytes?: number;
}

/**
 * The default filter takes what the kernel's idle_pages walk takes: anonymous memory and
 * private writable mappings; never shared mappings, never the kernel's special pages.
 */
export function trackable(v: Vma, opts: VmaFilterOptions = {}): boolean {
  if (v.shared) return false;
  if (SPECIAL_NEVER.has(v.path)) return false;
  if (v.end - v.start < (opts.minBytes ?? 4096)) return false;
  if (isAnonymous(v)) return true;
  if (v.write) return true;
  return opts.includeFilePrivate === true && v.inode !== 0;
}

/** Sorted, merged [start, end) ranges of the trackable VMAs. */
export function trackableRanges(vmas: readonly Vma[], opts: VmaFilterOptions = {}): Float64Array {
  const out: number[] = [];
  for (const v of vmas) {
    if (!trackable(v, opts)) continue;
    const n = out.length;
    if (n > 0 && out[n - 1] === v.start) out[n - 1] = v.end;
    else out.push(v.start, v.end);
  }
  return Float64Array.from(out);
}
