// probe: what a move_pages call costs per call and per page. Moves 64 MiB of another process's
// 4 KiB pages between the nodes in batches of 32 to 2048 pages and prints this process's CPU
// time (user + system: the kernel's migration runs in the caller) per page and per call, and
// the same for query-mode calls (GUEST_SUITES=move-cost-probe npm run test:vm).
import { spawn } from 'node:child_process';
import { LinuxKernel } from '../../../dist/src/kernel/linux/linux-kernel.js';

const k = new LinuxKernel();
const log = (m) => console.log(`[compare] probe: ${m}`);
const p = spawn('test/vm/guest/compare-workload', ['filler', '64'], { stdio: ['ignore', 'pipe', 'inherit'] });
const layout = await new Promise((r) => p.stdout.once('data', (d) => r(JSON.parse(String(d).split('\n')[0]))));
const pages = layout.size / 4096;
const addrs = new Float64Array(4096), nodes = new Int32Array(4096), st = new Int32Array(4096);
const cpuUs = () => { const u = process.cpuUsage(); return u.user + u.system; };

/** every page to `to` (or queried, when to is null) in calls of `batch` pages: [µs per page, calls, pages moved] */
function pass(batch, to) {
  let calls = 0, moved = 0;
  const c0 = cpuUs();
  for (let i = 0; i < pages; i += batch) {
    const n = Math.min(batch, pages - i);
    for (let j = 0; j < n; j++) addrs[j] = layout.base + (i + j) * 4096;
    if (to !== null) nodes.fill(to, 0, n);
    k.movePages(p.pid, n, addrs, to === null ? null : nodes, st, to === null ? 0 : 2);
    calls++;
    if (to !== null) for (let j = 0; j < n; j++) if (st[j] === to) moved++;
  }
  return [(cpuUs() - c0) / pages, calls, moved];
}

const rows = [];
for (const batch of [32, 128, 512, 2048]) {
  for (const to of [1, 0]) {
    const [us, calls, moved] = pass(batch, to);
    rows.push({ batch, to, us, calls });
    log(`batch ${batch} to node ${to}: ${us.toFixed(1)} µs CPU per page, ${calls} calls, ${moved} of ${pages} moved`);
  }
  const [q] = pass(batch, null);
  log(`batch ${batch} query: ${q.toFixed(2)} µs CPU per page`);
}
// per-call and per-page cost from the smallest and largest batches (a line through two points)
const at = (b) => rows.filter((r) => r.batch === b).reduce((s, r) => s + r.us, 0) / 2;
const perCallUs = ((at(32) - at(2048)) * pages) / (pages / 32 - pages / 2048);
log(`fit: ${perCallUs.toFixed(0)} µs per call, ${(at(2048) - (perCallUs * (pages / 2048)) / pages).toFixed(1)} µs per page`);
p.kill();
console.log('VERDICT probe done');
