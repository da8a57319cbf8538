import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { zDuration, zSize } from '../../util/zod-units.js';
import { parseYaml, schemaError } from '../../util/yaml-errors.js';
import { TierdError, fsErrorCode } from '../../util/errors.js';

const TIER_NAMES: Record<string, number> = { hbm: 0, dram: 1, cxl: 2, pmem: 3 };

const zTier = z.union([z.string(), z.number().int().min(0)]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const t = TIER_NAMES[v.toLowerCase()];
  if (t === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a tier name (hbm, dram, cxl, pmem) or a number, found "${v}"` });
    return z.NEVER;
  }
  return t;
});

const zFraction = z.number().min(0).max(1);

const zPhase = z.discriminatedUnion('pattern', [
  z.strictObject({ at: zDuration, pattern: z.literal('uniform'), rate: z.number().min(0) }),
  z.strictObject({
    at: zDuration,
    pattern: z.literal('hotset'),
    hotFraction: zFraction,
    hotOffset: zFraction.default(0),
    hotRate: z.number().min(0),
    coldRate: z.number().min(0).default(0),
    /** a warm set beside the hot one: this fraction of the bytes at warmRate (after the hot range, or scattered) */
    warmFraction: zFraction.default(0),
    warmRate: z.number().min(0).default(0),
    scatter: z.boolean().default(false),
  }),
  z.strictObject({ at: zDuration, pattern: z.literal('zipf'), theta: z.number().min(0).max(5), totalRate: z.number().min(0) }),
  z.strictObject({ at: zDuration, pattern: z.literal('idle') }),
]);

const zVma = z.strictObject({
  size: zSize,
  pageSize: zSize.default(4096).refine((v) => v === 4096 || v === 2 ** 21, { message: 'pageSize must be 4KiB or 2MiB' }),
  node: z.number().int().min(0),
  /** fraction of pages mapped by another process too (move_pages answers -EACCES) */
  shared: zFraction.default(0),
});

const zProcess = z.strictObject({
  name: z.string().min(1).max(15),
  pid: z.number().int().min(2).optional(),
  memory: z.array(zVma).min(1),
  phases: z.array(zPhase).min(1).default([{ at: 0, pattern: 'idle' }]),
  /** start at this simulated time (a process that appears while the daemon runs) */
  startAt: zDuration.default(0),
  /** exit at this simulated time */
  exitAt: zDuration.optional(),
});

export const zScenario = z.strictObject({
  seed: z.number().int().default(1),
  duration: zDuration,
  kernel: z
    .strictObject({
      variant: z.enum(['mod', 'rfc']).default('mod'),
      boundaryLoss: z.boolean().default(true),
      dupPmdSkip: z.boolean().default(true),
      swYoung: z.boolean().default(false),
      /** virtual time one move_pages call costs: fixed + per page */
      moveCallCost: zDuration.prefault('30us'),
      movePageCost4k: zDuration.prefault('1.2us'),
      movePageCost2m: zDuration.prefault('190us'),
      /** virtual time a walk costs per page scanned */
      scanPageCost: zDuration.prefault('0.02us'),
      /** probability that a page's isolation fails (-EBUSY) */
      busy: zFraction.default(0),
      /** probability that a queued page fails migration: move_pages stops early (positive return) */
      migrateFail: zFraction.default(0),
    })
    .prefault({}),
  nodes: z
    .array(
      z.strictObject({
        id: z.number().int().min(0).max(63),
        tier: zTier,
        capacity: zSize,
        distance: z.record(z.string(), z.number().int().min(10).max(255)).optional(),
      }),
    )
    .min(1),
  processes: z.array(zProcess).min(1),
});

export type Scenario = z.infer<typeof zScenario>;
export type ScenarioProcess = z.infer<typeof zProcess>;
export type Phase = z.infer<typeof zPhase>;

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TierdError('IO', `cannot read scenario ${file}: ${fsErrorCode(e) ?? String(e)}`, 'give the path of a scenario YAML file');
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file = 'scenario'): Scenario {
  const parsed = parseYaml(text, file, 'SCENARIO');
  const r = zScenario.safeParse(parsed.value);
  if (!r.success) throw schemaError(r.error.issues, parsed, file, 'SCENARIO', 'see config/demo-scenario.yaml for the format');
  const s = r.data;
  const ids = new Set<number>();
  s.nodes.forEach((n, i) => {
    if (ids.has(n.id)) throw new TierdError('SCENARIO', `${file}: nodes.${i}.id: node ${n.id} is listed twice`, 'give every node its own id');
    ids.add(n.id);
  });
  s.processes.forEach((p, i) => {
    p.memory.forEach((m, j) => {
      if (!ids.has(m.node)) throw new TierdError('SCENARIO', `${file}: processes.${i}.memory.${j}.node: no node ${m.node}`, `use one of the nodes: ${[...ids].join(', ')}`);
      if (m.size % m.pageSize !== 0) throw new TierdError('SCENARIO', `${file}: processes.${i}.memory.${j}.size: not a multiple of pageSize`, 'round the size to the page size');
    });
    for (let k = 1; k < p.phases.length; k++) {
      if (p.phases[k]!.at < p.phases[k - 1]!.at) throw new TierdError('SCENARIO', `${file}: processes.${i}.phases.${k}.at: phases must be in time order`, 'sort the phases by at');
    }
  });
  return s;
}
