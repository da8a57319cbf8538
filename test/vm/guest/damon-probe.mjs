// Debugging aid (GUEST_SUITES=damon-probe): tierd's DAMON control on the compare workload
// (shift, 1 GiB: 128 MiB hot, 256 MiB warm). Every 500 ms it takes the accessed regions (the
// tracepoint when tracefs is mounted, else sysfs) and prints how much of the workload they
// cover, and what share of its accesses that is: the ceiling of what the DAMON tracker can see.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
// TIERD_DAMON_CONFIGS: "min:max:sample_ms:aggr_ms,..." each measured for 20 s in turn
const configs = (process.env.TIERD_DAMON_CONFIGS ?? `${DEFAULT_DAMON_ATTRS.minRegions}:${DEFAULT_DAMON_ATTRS.maxRegions}:${DEFAULT_DAMON_ATTRS.sampleUs / 1000}:${DEFAULT_DAMON_ATTRS.aggrUs / 1000}`).split(',');
const covered = new Uint8Array(pages);
const cpuOf = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
for (const c of configs) {
  const [minRegions, maxRegions, sampleMs, aggrMs] = c.split(':').map(Number);
  const d = new LinuxDamon('/sys');
  d.start([info.pid], { sampleUs: sampleMs * 1000, aggrUs: aggrMs * 1000, updateUs: 1_000_000, minRegions, maxRegions });
  const kd = Number(readFileSync('/sys/kernel/mm/damon/admin/kdamonds/0/pid', 'utf8'));
  const cpu0 = cpuOf(kd);
  const t0 = Date.now();
  const sum = { hot: 0, cold: 0, share: 0, n: 0, regions: 0 };
  while (Date.now() - t0 < 20_000) {
    await new Promise((r) => setTimeout(r, Math.max(500, aggrMs)));
    const regs = d.regions(info.pid) ?? [];
    covered.fill(0);
    for (const g of regs) {
      const a = Math.max(g.start, info.base), b = Math.min(g.end, info.base + info.size);
      if (b > a) covered.fill(1, (a - info.base) / PAGE, (b - info.base) / PAGE);
    }
    let sh = 0, hotCov = 0, hot = 0, coldCov = 0, cold = 0;
    for (let p = 0; p < pages; p++) {
      const isHot = share[p] > 5e-6, isCold = share[p] < 1e-6;
      if (isHot) hot++;
      if (isCold) cold++;
      if (!covered[p]) continue;
      sh += share[p];
      if (isHot) hotCov++;
      if (isCold) coldCov++;
    }
    sum.hot += hotCov / hot; sum.cold += coldCov / cold; sum.share += sh; sum.n++; sum.regions += regs.length;
  }
  const cpu = cpuOf(kd) - cpu0;
  console.log(`[damon] probe min ${minRegions} max ${maxRegions} sample ${sampleMs} ms aggr ${aggrMs} ms: ${sum.n} walks, ${(sum.regions / sum.n).toFixed(0)} accessed regions per walk, hot pages covered ${(100 * sum.hot / sum.n).toFixed(1)}%, cold ${(100 * sum.cold / sum.n).toFixed(1)}%, access share ${(100 * sum.share / sum.n).toFixed(1)}%, kdamond ${(cpu / ((Date.now() - t0) / 1000) * 100).toFixed(1)}% of a CPU`);
  d.close();
}
w.kill();
