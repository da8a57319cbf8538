// Debugging aid (GUEST_SUITES=damon-probe): tierd's DAMON control on the compare workload
// (shift, 1 GiB: 128 MiB hot, 256 MiB warm). Every 500 ms it takes the accessed regions (the
// tracepoint when tracefs is mounted, else sysfs) and prints how much of the workload they
// cover, and what share of its accesses that is: the ceiling of what the DAMON tracker can see.
import { spawn } from 'node:child_process';
import { LinuxDamon } from '../../../dist/src/kernel/linux/damon.js';
import { DEFAULT_DAMON_ATTRS } from '../../../dist/src/trackers/damon/tracker.js';

const PAGE = 4096;
const w = spawn('test/vm/guest/compare-workload', ['shift', '1024', '128', '256', '600', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
const info = await new Promise((r) => {
  let buf = '';
  w.stdout.on('data', (d) => {
    buf += d;
    const i = buf.indexOf('\n');
    if (i >= 0) r(JSON.parse(buf.slice(0, i)));
  });
});
const pages = info.size / PAGE;
const share = new Float64Array(pages);
let at = 0;
for (const [n, s] of info.phases[0]) share.fill(s, at, (at += n));
const d = new LinuxDamon('/sys');
console.log('unavailable:', d.unavailable());
d.start([info.pid], DEFAULT_DAMON_ATTRS);
console.log('source:', d.source());
const covered = new Uint8Array(pages);
for (let i = 0; i < 40; i++) {
  await new Promise((r) => setTimeout(r, 500));
  const regs = d.regions(info.pid) ?? [];
  covered.fill(0);
  let inside = 0;
  const nr = [];
  for (const g of regs) {
    const a = Math.max(g.start, info.base), b = Math.min(g.end, info.base + info.size);
    if (b <= a) continue;
    inside++;
    nr.push(g.nrAccesses);
    covered.fill(1, (a - info.base) / PAGE, (b - info.base) / PAGE);
  }
  let bytes = 0, sh = 0, hotCov = 0, hot = 0, coldCov = 0, cold = 0;
  for (let p = 0; p < pages; p++) {
    const isHot = share[p] > 1e-6 * 5, isCold = share[p] < 1e-6;
    if (isHot) hot++;
    if (isCold) cold++;
    if (!covered[p]) continue;
    bytes += PAGE;
    sh += share[p];
    if (isHot) hotCov++;
    if (isCold) coldCov++;
  }
  nr.sort((x, y) => x - y);
  console.log(`walk ${i}: ${regs.length} accessed regions (${inside} in the workload), nr_accesses median ${nr[nr.length >> 1] ?? '-'} max ${nr[nr.length - 1] ?? '-'}, cover ${(bytes / 2 ** 20).toFixed(0)} MiB, ${(100 * sh).toFixed(1)}% of accesses, hot pages ${(100 * hotCov / hot).toFixed(1)}%, cold pages ${(100 * coldCov / cold).toFixed(1)}%`);
}
d.close();
w.kill();
