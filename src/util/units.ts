/**
 * Units as operators write them: sizes "256MiB", durations "500ms", rates "256MiB/s".
 * Binary prefixes only for sizes (KiB..TiB, and the kernel's K/M/G/T, as in mem=256M).
 * KB/MB/GB/TB are refused, not guessed: read as 10^n they would surprise a memory operator,
 * read as 2^n they would surprise everyone else (see DECIMAL_SIZE).
 */
const SIZE: Record<string, number> = {
  '': 1, b: 1,
  k: 2 ** 10, kib: 2 ** 10,
  m: 2 ** 20, mib: 2 ** 20,
  g: 2 ** 30, gib: 2 ** 30,
  t: 2 ** 40, tib: 2 ** 40,
};

/** Decimal size suffixes: refused with a hint (sizeUnitHint). */
const DECIMAL_SIZE = new Set(['kb', 'mb', 'gb', 'tb']);

/** Why a size text is refused when its unit is the problem, for the error message. */
export function sizeUnitHint(text: string): string | undefined {
  const m = NUM.exec(text.trim().replace(/\/s$/, ''));
  if (!m || !DECIMAL_SIZE.has(m[2]!.toLowerCase())) return undefined;
  const u = m[2]!;
  return `"${u}" is ambiguous: write ${u[0]!.toUpperCase()}iB for 2^${{ k: 10, m: 20, g: 30, t: 40 }[u[0]!.toLowerCase() as 'k']} bytes, or the exact number of bytes with B`;
}

/** A size as its exact text: the largest binary unit that divides it, else bytes ("4097B"). */
export function sizeText(n: number): string {
  for (const [u, m] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (n >= m && n % m === 0) return `${n / m}${u}`;
  }
  return `${n}B`;
}

/** A duration as its exact text in milliseconds ("500ms"), which parseDuration reads back. */
export function durationText(ms: number): string {
  return `${ms}ms`;
}

const DURATION: Record<string, number> = {
  us: 0.001, ms: 1, s: 1000, '': 1000, m: 60_000, min: 60_000, h: 3_600_000,
};

const NUM = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*$/;

/** Bytes, or undefined when the text is not a size. */
export function parseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const m = NUM.exec(text);
  if (!m) return undefined;
  const mult = SIZE[m[2]!.toLowerCase()];
  if (mult === undefined) return undefined;
  return Math.round(Number(m[1]) * mult);
}

/** Milliseconds; a bare number means seconds. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text * 1000 : undefined;
  const m = NUM.exec(text);
  if (!m) return undefined;
  const mult = DURATION[m[2]!.toLowerCase()];
  if (mult === undefined) return undefined;
  return Number(m[1]) * mult;
}

/** Bytes per second from "256MiB/s" (a bare size means per second). */
export function parseRate(text: string | number): number | undefined {
  if (typeof text === 'number') return parseSize(text);
  const s = text.trim();
  return parseSize(s.endsWith('/s') ? s.slice(0, -2) : s);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)}${units[i]}`;
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Bytes of a page by its shift, for per-page loops: `2 ** shift` is a call to pow each time. */
export const PAGE_BYTES = Float64Array.from({ length: 64 }, (_, k) => 2 ** k);
