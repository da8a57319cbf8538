import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Mover, type MoverParams } from '../../src/mover/mover.js';
import { O } from '../../src/mover/outcomes.js';
import { SimKernel } from '../../src/kernel/sim/sim-kernel.js';
import { parseScenario } from '../../src/kernel/sim/scenario.js';
import { classify } from '../../src/topology/topology.js';
import { StateSpace } from '../../src/heat/states.js';
import { HeatTable } from '../../src/heat/heat-table.js';
import { MoveHistory, Dir } from '../../src/planner/history.js';
import { PlanList, Reason, type Plan, type Target } from '../../src/planner/plan.js';
import { SyscallError, ERRNO } from '../../src/util/errors.js';

const PARAMS: MoverParams = { promoteRate: 2 ** 30, demoteRate: 2 ** 30, periodCap: 2 ** 30, batchPages: 64, callTargetMs: 20, flags: 2, headroom: 0.02, pingPongWindow: 10, dryRun: false };
const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });

/** A 1 GiB DRAM node holding `dramMiB` of process 500, and its other `pmemMiB` on node 1; every move_pages call's target node is logged. */
function host(dramMiB: number, pmemMiB: number, dramCapacity = '1GiB'): { kernel: SimKernel; target: Target; pageAddr: (i: number) => number; calls: number[] } {
  const kernel = new SimKernel(parseScenario(`duration: 10m\nnodes: [{id: 0, tier: dram, capacity: ${dramCapacity}}, {id: 1, tier: pmem, capacity: 4GiB}]\nprocesses: [{name: x, pid: 500, memory: [{size: ${dramMiB}MiB, node: 0}, {size: ${pmemMiB}MiB, node: 1}]}]\n`));
  const calls: number[] = [];
  const real = kernel.movePages.bind(kernel);
  kernel.movePages = (pid, n, addrs, nodes, status, flags) => {
    if (nodes !== null) calls.push(nodes[0]!);
    return real(pid, n, addrs, nodes, status, flags);
  };
  const p = kernel.allProcesses()[0]!;
  const target: Target = { id: { pid: p.pid, starttime: p.starttime }, comm: 'x', heat: new HeatTable(space), history: new MoveHistory(), ranges: new Float64Array(0), gone: false };
  return { kernel, target, pageAddr: (i) => p.pageAddr(i), calls };
}

function planOf(list: PlanList): Plan {
  return { period: 1, walks: 5, lists: [list], promoteBytes: list.bytes(Dir.PROMOTE), demoteBytes: list.bytes(Dir.DEMOTE), hotBytes: [0, 0, 0], coldBytes: [0, 0, 0], trackedBytes: [0, 0, 0], hotSetBytes: 0, warmSetBytes: 0, placementQueries: 0, countBytes: [0, 0, 0, 0, 0, 0], spareBytes: 0, short: false, notes: [] };
}
const silent = pino({ level: 'silent' });

test('every demotion of a period runs before its first promotion, whatever the plan order', async () => {
  const h = host(1, 1);
  const list = new PlanList(h.target);
  // interleaved in the plan: promotions of the node-1 pages, demotions of the node-0 pages
  for (let i = 0; i < 256; i++) list.push(h.pageAddr(i % 2 === 0 ? 256 + i : i), 12, i % 2 === 0 ? 0 : 1, i % 2 === 0 ? Dir.PROMOTE : Dir.DEMOTE, i % 2 === 0 ? Reason.HOT : Reason.COLD, 0);
  const totals = await new Mover(h.kernel, PARAMS, silent).execute(planOf(list), classify(h.kernel.topology()), space, null);
  assert.equal(totals.outcomes[O.moved], 256);
  const firstPromotion = h.calls.indexOf(0);
  assert.ok(firstPromotion > 0 && h.calls.slice(firstPromotion).every((n) => n === 0), `call order ${h.calls.join('')}`);
});

test("promotions stop at the node's room less its headroom: the rest are no_room, and the node is not asked again this period", async () => {
  // DRAM of 16 MiB, 12 MiB of it used: room 4 MiB − 2% headroom ≈ 3.7 MiB = 942 pages
  const h = host(12, 8, '16MiB');
  const list = new PlanList(h.target);
  for (let i = 0; i < 2048; i++) list.push(h.pageAddr(3072 + i), 12, 0, Dir.PROMOTE, Reason.HOT, 5);
  const totals = await new Mover(h.kernel, PARAMS, silent).execute(planOf(list), classify(h.kernel.topology()), space, null);
  const room = Math.floor((4 * 2 ** 20 - 0.02 * 16 * 2 ** 20) / 4096);
  assert.equal(totals.outcomes[O.moved], room);
  assert.equal(totals.outcomes[O.no_room], 2048 - room);
  assert.equal(h.kernel.nodeUsed(0), 12 * 2 ** 20 + room * 4096);
  assert.equal(h.calls.length, Math.ceil(room / 64), 'no call after the room ran out');
});

test('a process gone at move time (ESRCH) or one we may not move (EACCES): its moves are dropped, the target marked gone, nothing thrown', async () => {
  for (const errno of [ERRNO.ESRCH, ERRNO.EACCES]) {
    const h = host(1, 1);
    const real = h.kernel.movePages.bind(h.kernel);
    h.kernel.movePages = (pid, n, addrs, nodes, status, flags) => {
      if (nodes !== null) throw new SyscallError('move_pages', errno);
      return real(pid, n, addrs, nodes, status, flags);
    };
    const list = new PlanList(h.target);
    for (let i = 0; i < 200; i++) list.push(h.pageAddr(256 + i), 12, 0, Dir.PROMOTE, Reason.HOT, 5);
    const totals = await new Mover(h.kernel, PARAMS, silent).execute(planOf(list), classify(h.kernel.topology()), space, null);
    assert.equal(h.target.gone, true, `errno ${errno}`);
    assert.equal(totals.outcomes[O.moved], 0);
    assert.equal(totals.calls, 1, 'no further batch after the first refusal');
    if (errno === ERRNO.ESRCH) assert.equal(totals.outcomes[O.gone], 64, 'the batch in flight counts as gone');
  }
});

test("after its demotions the mover lends a node its slack against the pages they freed, which the kernel's report leaves out (per-cpu lists), and no more", async () => {
  // DRAM of 16 MiB, all of it used; the report shows none of the demoted pages as free (they sit
  // on the demoting CPU's per-cpu list) and 1 MiB of slack
  const h = host(16, 8, '16MiB');
  const real = h.kernel.topology.bind(h.kernel);
  const parked = (): number => 16 * 2 ** 20 - h.kernel.nodeUsed(0);
  h.kernel.topology = () => {
    const t = real();
    return { ...t, nodes: t.nodes.map((n) => (n.id === 0 ? { ...n, memFreeBytes: n.memFreeBytes - parked(), reservedBytes: 0, slackBytes: 2 ** 20 } : n)) };
  };
  const list = new PlanList(h.target);
  for (let i = 0; i < 512; i++) list.push(h.pageAddr(i), 12, 1, Dir.DEMOTE, Reason.COLD, 0);
  for (let i = 0; i < 512; i++) list.push(h.pageAddr(4096 + i), 12, 0, Dir.PROMOTE, Reason.HOT, 5);
  const totals = await new Mover(h.kernel, { ...PARAMS, headroom: 0 }, silent).execute(planOf(list), classify(h.kernel.topology()), space, null);
  assert.equal(totals.demotedBytes, 512 * 4096);
  assert.equal(totals.promotedBytes, 2 ** 20, 'the slack, not the 2 MiB demoted');
  assert.equal(totals.outcomes[O.no_room], 256);
});

test('promotions go hottest first and demotions coldest first, in address order within a count, however the plan lists them', async () => {
  for (const shuffled of [false, true]) {
    const h = host(1, 1);
    const moved: number[] = [];
    const real = h.kernel.movePages.bind(h.kernel);
    h.kernel.movePages = (pid, n, addrs, nodes, status, flags) => {
      if (nodes !== null) for (let k = 0; k < n; k++) moved.push(addrs[k]!);
      return real(pid, n, addrs, nodes, status, flags);
    };
    // pages 256.. of node 1 promoted with counts 1..5, pages 0.. of node 0 demoted with counts 0..2
    const entries: [number, number, number][] = [];
    for (let i = 0; i < 200; i++) entries.push([h.pageAddr(256 + i), Dir.PROMOTE, 1 + ((i * 7) % 5)]);
    for (let i = 0; i < 200; i++) entries.push([h.pageAddr(i), Dir.DEMOTE, (i * 5) % 3]);
    // the planner lists a target's moves in address order
    entries.sort(shuffled ? (a, b) => ((a[0] * 2654435761) % 1000) - ((b[0] * 2654435761) % 1000) : (a, b) => a[0] - b[0]);
    const list = new PlanList(h.target);
    for (const [addr, dir, count] of entries) list.push(addr, 12, dir === Dir.PROMOTE ? 0 : 1, dir, dir === Dir.PROMOTE ? Reason.HOT : Reason.COLD, count);
    await new Mover(h.kernel, PARAMS, silent).execute(planOf(list), classify(h.kernel.topology()), space, null);
    const expect = (dir: number, sign: number): number[] =>
      entries.filter((e) => e[1] === dir).sort((a, b) => sign * (a[2] - b[2]) || a[0] - b[0]).map((e) => e[0]);
    assert.deepEqual(moved, [...expect(Dir.DEMOTE, 1), ...expect(Dir.PROMOTE, -1)], shuffled ? 'shuffled plan' : 'plan in address order');
  }
});

test("several targets: each batch is the best count left across all of them, so one target's fill pages never go before another's hot pages", async () => {
  // processes 500 and 501, all on node 1; 500 lists 64 hot pages then 512 lukewarm ones, 501 lists 64 hot pages
  const kernel = new SimKernel(parseScenario('duration: 10m\nnodes: [{id: 0, tier: dram, capacity: 1GiB}, {id: 1, tier: pmem, capacity: 4GiB}]\nprocesses:\n  - {name: a, pid: 500, memory: [{size: 4MiB, node: 1}]}\n  - {name: b, pid: 501, memory: [{size: 4MiB, node: 1}]}\n'));
  const order: string[] = [];
  const real = kernel.movePages.bind(kernel);
  kernel.movePages = (pid, n, addrs, nodes, status, flags) => {
    if (nodes !== null) order.push(`${pid}:${n}`);
    return real(pid, n, addrs, nodes, status, flags);
  };
  const lists = kernel.allProcesses().map((p) => {
    const target: Target = { id: { pid: p.pid, starttime: p.starttime }, comm: p.comm, heat: new HeatTable(space), history: new MoveHistory(), ranges: new Float64Array(0), gone: false };
    const list = new PlanList(target);
    for (let i = 0; i < (p.pid === 500 ? 576 : 64); i++) list.push(p.pageAddr(i), 12, 0, Dir.PROMOTE, i < 64 ? Reason.HOT : Reason.FILL, i < 64 ? 5 : 2);
    return list;
  });
  // the period may move 128 pages: both hot sets, none of the lukewarm pages
  const plan: Plan = { ...planOf(lists[0]!), lists };
  const totals = await new Mover(kernel, { ...PARAMS, periodCap: 128 * 4096 }, silent).execute(plan, classify(kernel.topology()), space, null);
  assert.deepEqual(order, ['500:64', '501:64']);
  assert.equal(totals.outcomes[O.moved], 128);
  assert.equal(totals.outcomes[O.no_room], 512);
});

test("slow calls halve the batch no further than the kernel's own migration batch (512 pages)", async () => {
  const kernel = new SimKernel(parseScenario('duration: 10m\nkernel: { moveCallCost: 50ms }\nnodes: [{id: 0, tier: dram, capacity: 1GiB}, {id: 1, tier: pmem, capacity: 4GiB}]\nprocesses: [{name: x, pid: 500, memory: [{size: 64MiB, node: 1}]}]\n'));
  const sizes: number[] = [];
  const real = kernel.movePages.bind(kernel);
  kernel.movePages = (pid, n, addrs, nodes, status, flags) => {
    if (nodes !== null) sizes.push(n);
    return real(pid, n, addrs, nodes, status, flags);
  };
  const p = kernel.allProcesses()[0]!;
  const target: Target = { id: { pid: p.pid, starttime: p.starttime }, comm: 'x', heat: new HeatTable(space), history: new MoveHistory(), ranges: new Float64Array(0), gone: false };
  const list = new PlanList(target);
  for (let i = 0; i < 16384; i++) list.push(p.pageAddr(i), 12, 0, Dir.PROMOTE, Reason.HOT, 5);
  const totals = await new Mover(kernel, { ...PARAMS, batchPages: 1024 }, silent).execute(planOf(list), classify(kernel.topology()), space, null);
  assert.equal(totals.outcomes[O.moved], 16384);
  // every call takes 50 ms against a 20 ms target: 1024, then 512 for good (it was 128)
  assert.equal(sizes[0], 1024);
  assert.ok(sizes.length === 31 && sizes.slice(1).every((n) => n === 512), `call sizes ${sizes.join(' ')}`);
});
