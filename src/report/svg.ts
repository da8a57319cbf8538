import { formatBytes } from '../util/units.js';
import { binAddress, type Series } from './series.js';

/**
 * The journal as an SVG, written by hand: three panels that share the time axis. A heatmap of
 * access frequency (address down, time across), the same grid coloured by the share of each
 * bin on the fastest tier, and the timeline of hot bytes per tier, bytes moved and the hit
 * ratio. By hand because the picture is rectangles, lines and a few labels: a plotting library
 * would add more code to the install than this file has.
 */
const W = 1000;
const LEFT = 110;
const RIGHT = 60;
const PLOT_W = W - LEFT - RIGHT;
const HEAT = { y: 50, h: 300 };
const FAST = { y: 390, h: 150 };
const LINE = { y: 580, h: 150 };
const H = 790;

/** plasma-like stops from 0 (never accessed) to 100 (accessed in every walk) */
const HEAT_STOPS: [number, number, number][] = [[13, 8, 135], [126, 3, 168], [204, 71, 120], [248, 149, 64], [240, 249, 33]];
const FAST_STOPS: [number, number, number][] = [[240, 240, 240], [26, 152, 80]];

function colour(stops: [number, number, number][], pct: number): string {
  const x = (Math.max(0, Math.min(100, pct)) / 100) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i]!.map((v, k) => Math.round(v + (stops[i + 1]![k]! - v) * f));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const n1 = (x: number): string => (Math.round(x * 10) / 10).toString();

/**
 * Time runs left to right in proportion: a record is stamped at its period's end, so column c
 * spans from the previous column's time to its own (periods are longer while placement is
 * settled, and columns would otherwise squeeze the quiet minutes).
 */
function timeScale(s: Series): { x: (t: number) => number; from: (c: number) => number } {
  const first = s.t.length > 1 ? Math.max(0, s.t[0]! - (s.t[1]! - s.t[0]!)) : Math.max(0, s.t[0]! - 1);
  const last = s.t[s.t.length - 1]!;
  const x = (t: number): number => LEFT + ((t - first) / Math.max(1e-9, last - first)) * PLOT_W;
  return { x, from: (c: number) => (c === 0 ? first : s.t[c - 1]!) };
}

function grid(s: Series, panel: { y: number; h: number }, values: number[][], stops: [number, number, number][], cls: string): string[] {
  const { x, from } = timeScale(s);
  const rh = panel.h / s.bins;
  const out: string[] = [];
  values.forEach((col, c) => {
    const x0 = x(from(c));
    out.push(`<g transform="translate(${n1(x0)},${panel.y})">`);
    const w = n1(x(s.t[c]!) - x0 + 0.3);
    col.forEach((v, b) => out.push(`<rect class="${cls}" y="${n1(b * rh)}" width="${w}" height="${n1(rh + 0.3)}" fill="${colour(stops, v)}"/>`));
    out.push('</g>');
  });
  return out;
}

function addressAxis(s: Series, panel: { y: number; h: number }): string[] {
  const out: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const b = Math.min(s.bins, Math.round((k * s.bins) / 4));
    const y = panel.y + (b / s.bins) * panel.h;
    out.push(`<text x="${LEFT - 6}" y="${n1(y + 4)}" text-anchor="end" class="tick">0x${binAddress(s, b).toString(16)}</text>`);
    out.push(`<line x1="${LEFT - 3}" x2="${LEFT}" y1="${n1(y)}" y2="${n1(y)}" stroke="#333"/>`);
  }
  return out;
}

function timeAxis(s: Series, y: number): string[] {
  const { x, from } = timeScale(s);
  const t0 = from(0);
  const t1 = s.t[s.t.length - 1]!;
  const out: string[] = [];
  for (let k = 0; k <= 5; k++) {
    const t = t0 + (k * (t1 - t0)) / 5;
    out.push(`<text x="${n1(x(t))}" y="${y + 14}" text-anchor="middle" class="tick">${Math.round(t)} s</text>`);
  }
  out.push(`<text x="${LEFT + PLOT_W / 2}" y="${y + 30}" text-anchor="middle" class="label">time since the daemon started, s</text>`);
  return out;
}

function timeline(s: Series): string[] {
  const out: string[] = [];
  const maxBytes = Math.max(1, ...s.hotFast.map((v, i) => Math.max(v, s.hotSlow[i]!)), ...s.promoted, ...s.demoted);
  const { x: xt, from } = timeScale(s);
  const x = (c: number): number => xt(s.t[c]!);
  const yB = (v: number): number => LINE.y + LINE.h - (v / maxBytes) * LINE.h;
  const bar = (v: number, c: number, half: number, fill: string): void => {
    if (v <= 0) return;
    const x0 = xt(from(c));
    const w = Math.max(1, (x(c) - x0) / 2);
    out.push(`<rect class="moved" x="${n1(x0 + half * w)}" y="${n1(yB(v))}" width="${n1(w)}" height="${n1(LINE.y + LINE.h - yB(v))}" fill="${fill}"/>`);
  };
  s.promoted.forEach((v, c) => bar(v, c, 0, '#9ecae1'));
  s.demoted.forEach((v, c) => bar(v, c, 1, '#fdae6b'));
  const poly = (vals: number[], colourName: string, y: (v: number) => number): string =>
    `<polyline fill="none" stroke="${colourName}" stroke-width="2" points="${vals.map((v, c) => `${n1(x(c))},${n1(y(v))}`).join(' ')}"/>`;
  out.push(poly(s.hotFast, '#1a9850', yB), poly(s.hotSlow, '#d73027', yB));
  if (s.hit.some((h) => h !== null)) out.push(poly(s.hit.map((h) => h ?? 0), '#2166ac', (v) => LINE.y + LINE.h - v * LINE.h));
  out.push(`<text x="${LEFT - 6}" y="${LINE.y + 4}" text-anchor="end" class="tick">${esc(formatBytes(maxBytes))}</text>`);
  out.push(`<text x="${LEFT - 6}" y="${LINE.y + LINE.h + 4}" text-anchor="end" class="tick">0</text>`);
  if (s.hit.some((h) => h !== null)) out.push(`<text x="${LEFT + PLOT_W + 6}" y="${LINE.y + 4}" class="tick">hit 1.0</text>`, `<text x="${LEFT + PLOT_W + 6}" y="${LINE.y + LINE.h + 4}" class="tick">0</text>`);
  return out;
}

function legend(y: number, items: [string, string][]): string {
  let x = LEFT;
  return items
    .map(([c, text]) => {
      const s = `<rect x="${x}" y="${y - 9}" width="12" height="10" fill="${c}"/><text x="${x + 16}" y="${y}" class="tick">${esc(text)}</text>`;
      x += 24 + text.length * 6.2;
      return s;
    })
    .join('');
}

export function renderSvg(s: Series): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    '<style>.tick{font-size:11px;fill:#333}.label{font-size:12px;fill:#111}.title{font-size:15px;font-weight:bold}</style>',
    '<rect width="100%" height="100%" fill="#fff"/>',
    `<text x="${LEFT}" y="24" class="title">tierd: ${esc(s.comm)} (pid ${s.pid}), ${s.t.length} columns, ${formatBytes(s.binBytes * s.bins)} in ${s.bins} bins</text>`,
    `<text x="${LEFT}" y="${HEAT.y - 6}" class="label">access frequency (mean share of walks that found a page accessed): dark never, yellow every walk</text>`,
    ...grid(s, HEAT, s.heat, HEAT_STOPS, 'cell heat'),
    ...addressAxis(s, HEAT),
    `<text x="${LEFT}" y="${FAST.y - 6}" class="label">placement: share of each bin on the fastest tier (green: all of it)</text>`,
    ...grid(s, FAST, s.fast, FAST_STOPS, 'cell fast'),
    ...addressAxis(s, FAST),
    `<text x="${LEFT}" y="${LINE.y - 6}" class="label">hot memory (accessed in every walk) per tier, bytes it moved per column${s.hit.some((h) => h !== null) ? ', hit ratio' : ''}</text>`,
    ...timeline(s),
    ...timeAxis(s, LINE.y + LINE.h),
    legend(H - 12, [['#1a9850', 'hot on the fastest tier'], ['#d73027', 'hot elsewhere'], ['#9ecae1', 'promoted'], ['#fdae6b', 'demoted'], ...(s.hit.some((h) => h !== null) ? ([['#2166ac', 'hit ratio (simulated host)']] as [string, string][]) : [])]),
    '</svg>',
  ];
  return out.join('\n') + '\n';
}
