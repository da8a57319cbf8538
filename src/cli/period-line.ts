import type { PeriodReport } from '../daemon/daemon.js';
import type { SimKernel } from '../kernel/sim/sim-kernel.js';
import { formatBytes } from '../util/units.js';

/** One human line per period, for the demo and `tierd simulate`. */
export function periodLine(r: PeriodReport, k: SimKernel | null): string {
  const hot = Object.entries(r.hotBytes).filter(([, v]) => v > 0).map(([t, v]) => `${t === '0' ? 'fast' : t === 'unknown' ? '?' : `tier${t}`} ${formatBytes(v)}`).join(', ') || '0';
  const fail = Object.entries(r.failures).map(([k2, v]) => `${k2} ${v}`).join(', ');
  // averaged over the period, so the first periods show the climb
  const h = k?.hitRatio(r.startedMs / 1000);
  const sim = k && h ? `  t=${(k.now() / 1000).toFixed(1)}s  DRAM hit ${h.actual.toFixed(3)} (oracle ${h.oracle.toFixed(3)})` : '';
  return `period ${String(r.period).padStart(3)}${sim}  hot: ${hot}  promoted ${formatBytes(r.promotedBytes)}  demoted ${formatBytes(r.demotedBytes)}  interval ${r.intervalMs.toFixed(0)}ms${fail ? `  not moved: ${fail}` : ''}`;
}
