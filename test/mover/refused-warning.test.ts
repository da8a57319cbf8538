import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Mover } from '../../src/mover/mover.js';
import { SimKernel } from '../../src/kernel/sim/sim-kernel.js';
import { parseScenario } from '../../src/kernel/sim/scenario.js';
import { classify } from '../../src/topology/topology.js';
import { StateSpace } from '../../src/heat/states.js';
import { HeatTable } from '../../src/heat/heat-table.js';
import { MoveHistory, Dir } from '../../src/planner/history.js';
import { PlanList, Reason, type Plan, type Target } from '../../src/planner/plan.js';
import { SyscallError, ERRNO } from '../../src/util/errors.js';

test('a node that refuses every promotion (ENOMEM) is warned about once a minute, not every period', async () => {
  const kernel = new SimKernel(parseScenario('duration: 10m\nnodes: [{id: 0, tier: dram, capacity: 1GiB}, {id: 1, tier: pmem, capacity: 1GiB}]\nprocesses: [{name: x, pid: 500, memory: [{size: 4MiB, node: 1}]}]\n'));
  const real = kernel.movePages.bind(kernel);
  // a node at its watermarks: queries answer, moves fail as a whole
  kernel.movePages = (pid, n, addrs, nodes, status, flags) => {
    if (nodes !== null) throw new SyscallError('move_pages', ERRNO.ENOMEM);
    return real(pid, n, addrs, nodes, status, flags);
  };
  const lines: { msg: string }[] = [];
  const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string }) });
  const mover = new Mover(kernel, { promoteRate: 2 ** 30, demoteRate: 2 ** 30, periodCap: 2 ** 30, batchPages: 1024, callTargetMs: 20, flags: 2, headroom: 0.02, pingPongWindow: 10, dryRun: false }, log);
  const topo = classify(kernel.topology());
  const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
  const p = kernel.allProcesses()[0]!;
  const target: Target = { id: { pid: p.pid, starttime: p.starttime }, comm: 'x', heat: new HeatTable(space), history: new MoveHistory(), ranges: new Float64Array(0), gone: false };
  // 30 periods 4 s apart, each planning the same promotion
  for (let period = 0; period < 30; period++) {
    const list = new PlanList(target);
    list.push(p.pageAddr(0), 12, 0, Dir.PROMOTE, Reason.HOT, 5);
    const plan: Plan = { period, walks: 5, lists: [list], promoteBytes: 4096, demoteBytes: 0, hotBytes: [0, 0, 0], coldBytes: [0, 0, 0], trackedBytes: [0, 0, 0], hotSetBytes: 0, warmSetBytes: 0, placementQueries: 0, countBytes: [0, 0, 0, 0, 0, 0], spareBytes: 0, short: false, notes: [] };
    await mover.execute(plan, topo, space, null);
    await kernel.sleep(4000);
  }
  const refused = lines.filter((l) => l.msg.startsWith('target node full'));
  process.stdout.write(`# node refused: ${refused.length} warnings over 30 periods in 120 s\n`);
  assert.equal(refused.length, 2, 'one warning a minute');
});
