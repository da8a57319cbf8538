import { formatBytes } from '../util/units.js';
import { binAddress, type Series } from './series.js';

const SHADES = ' .:-=+*#%@';
const BARS = '▁▂▃▄▅▆▇█';

/** Rows of address groups, a character per column: for terminals without a browser. */
export function renderText(s: Series, rows = 16): string {
  const per = Math.ceil(s.bins / rows);
  const lines: string[] = [`tierd: ${s.comm} (pid ${s.pid}), ${s.t.length} columns from ${Math.round(s.t[0]!)} s to ${Math.round(s.t[s.t.length - 1]!)} s`];
  const block = (title: string, values: number[][], shade: (v: number) => string): void => {
    lines.push(title);
    for (let g = 0; g < s.bins; g += per) {
      const row = values.map((col) => shade(col.slice(g, g + per).reduce((a, v) => a + v, 0) / Math.min(per, s.bins - g))).join('');
      lines.push(`${`0x${binAddress(s, g).toString(16)}`.padStart(16)} ${row}`);
    }
  };
  block('access frequency (" " never … "@" every walk):', s.heat, (v) => SHADES[Math.min(9, Math.floor(v / 10))]!);
  block('on the fastest tier (" " none … "@" all):', s.fast, (v) => SHADES[Math.min(9, Math.floor(v / 10))]!);
  const spark = (vals: number[], max: number): string => vals.map((v) => BARS[Math.min(7, Math.floor((v / Math.max(max, 1e-9)) * 7.999))]!).join('');
  const maxHot = Math.max(...s.hotFast, ...s.hotSlow);
  lines.push(`${'hot, fastest'.padStart(16)} ${spark(s.hotFast, maxHot)} (max ${formatBytes(maxHot)})`);
  lines.push(`${'hot, elsewhere'.padStart(16)} ${spark(s.hotSlow, maxHot)}`);
  if (s.hit.some((h) => h !== null)) lines.push(`${'hit ratio'.padStart(16)} ${spark(s.hit.map((h) => h ?? 0), 1)} (last ${(s.hit[s.hit.length - 1] ?? 0).toFixed(3)})`);
  return lines.join('\n') + '\n';
}
