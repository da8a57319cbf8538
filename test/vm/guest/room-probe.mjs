// probe: fill node 0 to ~150 MiB free with a filler, then promote another process's pages into
// node 0 batch by batch until move_pages fails with ENOMEM. Before each batch it prints the room
// tierd computes (LinuxKernel.topology() and roomOn with no headroom), and at the failure the
// kernel's own account: every zone's free/min/low/high/protection and per-cpu counts, and the
// allocation-failure report from the kernel log. Answers: where does the allocator say no,
// relative to what tierd believes is room? (GUEST_SUITES=room-probe npm run test:vm)
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LinuxKernel } from '../../../dist/src/kernel/linux/linux-kernel.js';
import { roomOn } from '../../../dist/src/topology/topology.js';

const k = new LinuxKernel();
const log = (m) => console.log(`[compare] probe: ${m}`);
const MiB = 2 ** 20;
const mib = (b) => (b / MiB).toFixed(1);

function filler(sizeMib) {
  const p = spawn('test/vm/guest/compare-workload', ['filler', String(sizeMib)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((r) => p.stdout.once('data', (d) => r({ proc: p, ...JSON.parse(String(d).split('\n')[0]) })));
}
const node0 = () => k.topology().nodes.find((n) => n.id === 0);
const room0 = () => {
  const n = node0();
  return { room: roomOn({ ...n, reservedBytes: n.reservedBytes ?? 0 }, 0), free: n.memFreeBytes, reserved: n.reservedBytes ?? 0 };
};

/** Node 0's zones as the allocator sees them (pages). */
function zones0() {
  const out = [];
  let z = null;
  for (const l of readFileSync('/proc/zoneinfo', 'utf8').split('\n')) {
    const h = /^Node (\d+), zone\s+(\w+)/.exec(l);
    if (h) { z = Number(h[1]) === 0 ? { zone: h[2], pcp: 0 } : null; if (z) out.push(z); continue; }
    if (!z) continue;
    let m;
    if ((m = /^\s+pages free\s+(\d+)/.exec(l))) z.free = Number(m[1]);
    else if ((m = /^\s+(min|low|high|managed|spanned)\s+(\d+)$/.exec(l))) z[m[1]] = Number(m[2]);
    else if ((m = /^\s+protection: \((.*)\)/.exec(l))) z.protection = m[1];
    else if ((m = /^\s+count:\s+(\d+)/.exec(l))) z.pcp += Number(m[1]);
    else if ((m = /^\s+nr_free_cma\s+(\d+)/.exec(l))) z.cma = Number(m[1]);
  }
  return out.filter((x) => x.managed > 0);
}
const showZones = (label) => { for (const z of zones0()) log(`${label} ${JSON.stringify(z)}`); };

const src = await filler(256);
const pages = src.size / 4096;
const addrs = new Float64Array(256), nodes = new Int32Array(256), st = new Int32Array(256);
const move = (i, n, to) => {
  for (let j = 0; j < n; j++) addrs[j] = src.base + (i + j) * 4096;
  nodes.fill(to, 0, n);
  k.movePages(src.proc.pid, n, addrs, nodes, st, 2);
};
for (let i = 0; i < pages; i += 256) move(i, Math.min(256, pages - i), 1);
const fill = await filler(Math.floor((node0().memFreeBytes - 150 * MiB) / MiB));
log(`filler ${mib(fill.size)} MiB; node 0 now ${JSON.stringify(room0(), (_, v) => (typeof v === 'number' ? mib(v) : v))}`);
await new Promise((r) => setTimeout(r, 1000));
const dmesgBefore = execFileSync('dmesg').toString().split('\n').length;
showZones('start');
let moved = 0;
let failures = 0;
for (let i = 0; i < pages && failures < 3; i += 256) {
  const before = room0();
  try {
    move(i, Math.min(256, pages - i), 0);
    moved += 256;
  } catch (e) {
    failures++;
    log(`ENOMEM after ${mib(moved * 4096)} MiB promoted; tierd's room before this batch ${mib(before.room)} MiB (free ${mib(before.free)}, reserved ${mib(before.reserved)})`);
    showZones(`at failure ${failures}`);
    await new Promise((r) => setTimeout(r, 2000));
    log(`2 s later tierd's room ${mib(room0().room)} MiB`);
  }
}
const report = execFileSync('dmesg').toString().split('\n').slice(dmesgBefore);
for (const l of report.filter((x) => /allocation failure|Node 0 (DMA|Normal|DMA32) free|lowmem_reserve|Node 0 active_anon|free_pcp|min:/.test(x)).slice(0, 16)) log(`dmesg ${l.slice(0, 400)}`);
src.proc.kill();
fill.proc.kill();
console.log('VERDICT probe done');
