// The mover's JavaScript per page, alone: 131 072 promotions of 4 KiB pages against the simulated
// kernel, seven times in a row, CPU ms per execute. Run natively (node test/vm/guest/mover-js-probe.mjs
// after npm run build) and in the guest (GUEST_CMD="node /app/test/vm/guest/mover-js-probe.mjs"
// KERNELS=trimmed npm run test:vm) it gives how much slower TCG runs tierd's JavaScript.
const root = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');
const { Mover } = await import(`${root}/dist/src/mover/mover.js`);
const { SimKernel } = await import(`${root}/dist/src/kernel/sim/sim-kernel.js`);
const { parseScenario } = await import(`${root}/dist/src/kernel/sim/scenario.js`);
const { classify } = await import(`${root}/dist/src/topology/topology.js`);
const { StateSpace } = await import(`${root}/dist/src/heat/states.js`);
const { HeatTable } = await import(`${root}/dist/src/heat/heat-table.js`);
const { Segment } = await import(`${root}/dist/src/heat/segment.js`);
const { MoveHistory, Dir } = await import(`${root}/dist/src/planner/history.js`);
const { PlanList, Reason } = await import(`${root}/dist/src/planner/plan.js`);
const { pino } = await import('pino');
const PAGES = 1 << 18;
const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
const PARAMS = { promoteRate: 1e15, demoteRate: 1e15, periodCap: 1e15, batchPages: 1024, callTargetMs: 1e9, flags: 2, headroom: 0.02, pingPongWindow: 8, dryRun: false };
const times = [];
for (let rep = 0; rep < 7; rep++) {
  const kernel = new SimKernel(parseScenario(`duration: 10m\nnodes: [{id: 0, tier: dram, capacity: 4GiB}, {id: 1, tier: pmem, capacity: 4GiB}]\nprocesses: [{name: x, pid: 500, memory: [{size: 1GiB, node: 1}]}]\n`));
  const p = kernel.allProcesses()[0];
  const heat = new HeatTable(space);
  const onSlow = space.withTier(0, 2);
  for (let s = 0; s < PAGES; s += 1 << 16) {
    const st = new Uint8Array(1 << 16).fill(onSlow);
    const seg = new Segment(p.pageAddr(s), 12, st, 1 << 16);
    heat.segments.push(seg);
  }
  const target = { id: { pid: p.pid, starttime: p.starttime }, comm: 'x', heat, history: new MoveHistory(), ranges: new Float64Array(0), gone: false };
  const list = new PlanList(target);
  for (let i = 0; i < PAGES; i += 2) list.push(p.pageAddr(i), 12, 0, Dir.PROMOTE, Reason.HOT, 5);
  const plan = { period: 1, walks: 5, lists: [list], promoteBytes: list.bytes(Dir.PROMOTE), demoteBytes: 0, hotBytes: [0, 0, 0], coldBytes: [0, 0, 0], trackedBytes: [0, 0, 0], hotSetBytes: 0, warmSetBytes: 0, placementQueries: 0, countBytes: [0, 0, 0, 0, 0, 0], spareBytes: 0, short: false, notes: [] };
  const topo = classify(kernel.topology());
  const m = new Mover(kernel, PARAMS, pino({ level: 'silent' }));
  const t0 = process.cpuUsage();
  const totals = await m.execute(plan, topo, space, null);
  const u = process.cpuUsage(t0);
  if (totals.outcomes[0] !== PAGES / 2) throw new Error(`moved ${totals.outcomes[0]}`);
  times.push((u.user + u.system) / 1000);
}
console.log(root, 'ms per execute of 131k promotions:', times.map((t) => t.toFixed(0)).join(' '));
