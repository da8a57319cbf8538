import type { Vma } from '../kernel/proc-text.js';

const SPECIAL_NEVER = new Set(['[vsyscall]', '[vvar]', '[vdso]', '[vvar_vclock]', '[uprobes]']);

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
