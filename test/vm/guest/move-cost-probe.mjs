// probe: what a move_pages call costs per call and per page. Moves 64 MiB of an idle filler's
// pages between the nodes in batches of 32 to 2048 pages and prints this process's CPU time
// (user + system: the kernel's migration runs in the caller) per page and per call, and the same
// for query-mode calls (GUEST_SUITES=move-cost-probe npm run test:vm). The filler does not opt
// out of THP, so on a THP-always kernel its pages are huge pages. Then it moves the 4 KiB hot set
// of a workload that keeps touching it, as a promotion does. The user part is printed alone: this
// loop's own JavaScript is a few instructions a page, so user time beyond that is how the guest
// attributes the kernel's work.
import { spawn } from 'node:child_process';
import { LinuxKernel } from '../../../dist/src/kernel/linux/linux-kernel.js';

const k = new LinuxKernel();
const log = (m) => console.log(`[compare] probe: ${m}`);
const addrs = new Float64Array(4096), nodes = new Int32Array(4096), st = new Int32Array(4096);

/** a workload process and the layout its first stdout line gives (a long line arrives in chunks) */
async function start(args) {
  const p = spawn('test/vm/guest/compare-workload', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  // read on for good: the workload prints as it runs, and a closed pipe would end it
  let text = '';
  const line = await new Promise((r) => p.stdout.on('data', (d) => {
    if (text.includes('\n')) return;
    text += String(d);
    if (text.includes('\n')) r(text.split('\n')[0]);
  }));
  const layout = JSON.parse(line);
  return { p, layout, list: Float64Array.from({ length: layout.size / 4096 }, (_, i) => layout.base + i * 4096) };
}

/** the pages of the first phase's highest share: [run length, share] runs in page order */
function hottest(w) {
  const runs = w.layout.phases[0];
  const top = Math.max(...runs.map((r) => r[1]));
  const out = [];
  let page = 0;
  for (const [len, share] of runs) {
    if (share === top) for (let i = 0; i < len; i++) out.push(w.layout.base + (page + i) * 4096);
    page += len;
  }
  return Float64Array.from(out);
}

/** every page to `to` (or queried, when to is null) in calls of `batch` pages: [µs per page, calls, pages moved, user µs per page] */
function pass(w, batch, to) {
  const { p, list } = w;
  const pages = list.length;
  let calls = 0, moved = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < pages; i += batch) {
    const n = Math.min(batch, pages - i);
    for (let j = 0; j < n; j++) addrs[j] = list[i + j];
    if (to !== null) nodes.fill(to, 0, n);
    k.movePages(p.pid, n, addrs, to === null ? null : nodes, st, to === null ? 0 : 2);
    calls++;
    if (to !== null) for (let j = 0; j < n; j++) if (st[j] === to) moved++;
  }
  const c = process.cpuUsage(c0);
  return [(c.user + c.system) / pages, calls, moved, c.user / pages];
}

const idle = await start(['filler', '64']);
const pages = idle.layout.size / 4096;
const rows = [];
for (const batch of [32, 128, 512, 2048]) {
  for (const to of [1, 0]) {
    const [us, calls, moved, user] = pass(idle, batch, to);
    rows.push({ batch, to, us, calls });
    log(`batch ${batch} to node ${to}: ${us.toFixed(1)} µs CPU per page (${user.toFixed(1)} user), ${calls} calls, ${moved} of ${pages} moved`);
  }
  const [q] = pass(idle, batch, null);
  log(`batch ${batch} query: ${q.toFixed(2)} µs CPU per page`);
}
// per-call and per-page cost from the smallest and largest batches (a line through two points)
const at = (b) => rows.filter((r) => r.batch === b).reduce((s, r) => s + r.us, 0) / 2;
const perCallUs = ((at(32) - at(2048)) * pages) / (pages / 32 - pages / 2048);
log(`fit: ${perCallUs.toFixed(0)} µs per call, ${(at(2048) - (perCallUs * (pages / 2048)) / pages).toFixed(1)} µs per page`);
idle.p.kill();
// the same moves of pages another process keeps touching (the hot 32 MiB of a 128 MiB shift
// workload that never shifts): what a promotion of a hot set costs the mover beyond idle pages
const busy = await start(['shift', '128', '32', '32', '100000', '1']);
busy.list = hottest(busy);
await new Promise((r) => setTimeout(r, 2000));
for (const batch of [128, 1024]) {
  for (const to of [0, 1]) {
    const [us, calls, moved, user] = pass(busy, batch, to);
    log(`touched pages, batch ${batch} to node ${to}: ${us.toFixed(1)} µs CPU per page (${user.toFixed(1)} user), ${calls} calls, ${moved} of ${busy.list.length} moved`);
  }
}
busy.p.kill();
console.log('VERDICT probe done');
