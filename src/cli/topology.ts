import type { Argv } from 'yargs';
import { classify } from '../topology/topology.js';
import { nodeMap } from '../config/load.js';
import { makeKernel, resolveConfig } from './common.js';
import { formatBytes } from '../util/units.js';
import { availableTrackers } from '../trackers/select.js';
import { TierdError } from '../util/errors.js';
import type { Kernel } from '../kernel/types.js';

export function topologyCommand(y: Argv): Argv {
  return y.command(
    'topology',
    'show the NUMA nodes, their tiers and why, promotion/demotion paths, conflicts and trackers',
    (a) => a.option('json', { type: 'boolean', default: false }).option('config', { type: 'string' }).option('sim', { type: 'string', describe: 'a scenario file: show the simulated host' }),
    (argv) => {
      const { config } = resolveConfig(argv, false);
      const kernel = makeKernel(argv);
      const topo = classify(kernel.topology(), nodeMap(config), config.policy.demoteToLowest);
      const tr = kernel.trackers();
      const trackers = availableTrackers(kernel);
      const { swYoung, moveRefused } = probeMoves(kernel);
      if (argv.json) {
        process.stdout.write(
          JSON.stringify({
            nodes: topo.nodes.map((n) => ({ id: n.id, tier: n.tier, cpus: n.cpus, memTotalBytes: n.memTotalBytes, memFreeBytes: n.memFreeBytes, distance: n.distance, promoteTo: n.promoteTo, demoteTo: n.demoteTo, evidence: n.evidence })),
            tiers: topo.tiers,
            conflicts: topo.conflicts,
            swYoung,
            movePagesRefused: moveRefused,
            trackers,
            idlePagesVariant: tr.idlePages,
            skimUnsafe: tr.skimUnsafe,
            trackersMissing: tr.missing,
          }) + '\n',
        );
        return;
      }
      const lines = [`${'NODE'.padEnd(5)}${'TIER'.padEnd(6)}${'CPUS'.padEnd(10)}${'MEMORY'.padEnd(11)}${'FREE'.padEnd(11)}${'PROMOTE→'.padEnd(10)}${'DEMOTE→'.padEnd(9)}EVIDENCE`];
      for (const n of topo.nodes) {
        lines.push(`${String(n.id).padEnd(5)}${String(n.tier).padEnd(6)}${(n.cpus.length > 0 ? `${n.cpus[0]}-${n.cpus[n.cpus.length - 1]}` : '-').padEnd(10)}${formatBytes(n.memTotalBytes).padEnd(11)}${formatBytes(n.memFreeBytes).padEnd(11)}${String(n.promoteTo ?? '-').padEnd(10)}${String(n.demoteTo ?? '-').padEnd(9)}${n.evidence}`);
      }
      lines.push('', `tiers: ${topo.tiers.map((t, i) => `${i}=[${t.join(',')}]`).join(' ')}`);
      lines.push(`trackers: ${trackers.length > 0 ? trackers.map((t) => (t === 'idle_pages' ? `idle_pages (${tr.idlePages})` : t)).join(', ') : 'none'}`);
      for (const [k, v] of Object.entries(tr.missing)) lines.push(`  ${k}: ${v}`);
      if (tr.idlePages !== null) lines.push(`idle_pages skim (SCAN_SKIM_IDLE): ${tr.skimUnsafe === null ? (config.scan.skimIdle ? 'asked for (a kernel without it reads every PTE)' : 'off (scan.skimIdle: false)') : `off: ${tr.skimUnsafe}`}`);
      if (moveRefused !== null) lines.push(`move_pages: ${moveRefused}`);
      else lines.push(`move_pages MPOL_MF_SW_YOUNG: ${swYoung ? 'accepted' : 'not accepted (unpatched kernel)'}`);
      lines.push(topo.conflicts.length > 0 ? 'conflicts:' : 'conflicts: none');
      for (const c of topo.conflicts) lines.push(`  ${c}`);
      process.stdout.write(lines.join('\n') + '\n');
    },
  );
}

/** The SW_YOUNG probe; a host that forbids move_pages to tierd is reported, not fatal, here. */
function probeMoves(kernel: Kernel): { swYoung: boolean | null; moveRefused: string | null } {
  try {
    return { swYoung: kernel.swYoungSupported(), moveRefused: null };
  } catch (e) {
    if (!(e instanceof TierdError) || e.code !== 'PERMISSION') throw e;
    return { swYoung: null, moveRefused: `${e.message}; ${e.hint}` };
  }
}
