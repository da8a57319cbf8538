// probe: after demoting pages from node 0, how much of the freed memory does node 0's MemFree
// show, and how much sits on the per-cpu lists (zoneinfo "count:")?
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LinuxKernel } from '../../../dist/src/kernel/linux/linux-kernel.js';
const k = new LinuxKernel();
const log = (m) => console.log(`[compare] probe: ${m}`);
const MiB = 2 ** 20;
const free0 = () => Number(/MemFree:\s+(\d+) kB/.exec(readFileSync('/sys/devices/system/node/node0/meminfo', 'utf8'))[1]) * 1024;
function pcp0() {
  let node = -1, s = 0;
  for (const l of readFileSync('/proc/zoneinfo', 'utf8').split('\n')) {
    const h = /^Node (\d+), zone/.exec(l);
    if (h) { node = Number(h[1]); continue; }
    const c = /^\s+count:\s+(\d+)/.exec(l);
    if (c && node === 0) s += Number(c[1]);
  }
  return s * 4096;
}
const p = spawn('test/vm/guest/compare-workload', ['filler', '256'], { stdio: ['ignore', 'pipe', 'inherit'] });
const layout = await new Promise((r) => p.stdout.once('data', (d) => r(JSON.parse(String(d).split('\n')[0]))));
log(`filler base ${layout.base} size ${layout.size}`);
const pages = layout.size / 4096;
const addrs = new Float64Array(1024), nodes = new Int32Array(1024), st = new Int32Array(1024);
const f0 = free0(), q0 = pcp0();
log(`before: free ${(f0 / MiB).toFixed(1)} MiB pcp ${(q0 / MiB).toFixed(1)} MiB`);
for (const [to, label] of [[1, 'demoted'], [0, 'promoted']]) {
  let moved = 0, failed = 0;
  for (let i = 0; i < pages; i += 1024) {
    const n = Math.min(1024, pages - i);
    for (let j = 0; j < n; j++) addrs[j] = layout.base + (i + j) * 4096;
    nodes.fill(to, 0, n);
    st.fill(-99, 0, n);
    try { k.movePages(p.pid, n, addrs, nodes, st, 2); } catch (e) { log(`move error ${e.message}`); }
    for (let j = 0; j < n; j++) (st[j] === to ? moved++ : failed++);
    if ((i / 1024) % 16 === 15) log(`${label} ${(moved * 4096 / MiB).toFixed(0)} MiB: free ${((free0() - f0) / MiB).toFixed(1)} MiB more than before, pcp ${(pcp0() / MiB).toFixed(1)} MiB`);
  }
  await new Promise((r) => setTimeout(r, 1000));
  log(`${label} all (${moved} moved, ${failed} not): 1 s later free ${((free0() - f0) / MiB).toFixed(1)} MiB more than before, pcp ${(pcp0() / MiB).toFixed(1)} MiB`);
}
p.kill();
console.log('VERDICT probe done');
