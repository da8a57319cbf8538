import { z } from 'zod';
import { zDuration, zRate, zSize } from '../util/zod-units.js';

/** Values that would stall the daemon (no move can fit a rate of 0, an interval of 0 never lets time pass). */
const atLeastAPage = (v: number): boolean => v >= 4096;
// messages as strings: zod normalises a params object in place, so one object cannot be shared
const PAGE_RATE = 'must be at least 4KiB/s (one page a second): a rate of 0 would stall every move';
const atLeastAMs = (v: number): boolean => v >= 1;
const MS = 'must be at least 1ms: an interval of 0 would walk without pause and never let time pass';
import { parseDuration } from '../util/units.js';

const CPU_SHARE = 'must be a share of one CPU from 0 (no bound) to 64, like 0.25 for a quarter of a core';
const SETTLED_SHARE = 'must be a share of one CPU from 0 (settledPauseMax alone) to 1, like 0.05 for a twentieth of a core';
const zFraction = z.number().min(0).max(1);
const zPercent = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const m = typeof v === 'number' ? v : /^\s*([0-9.]+)\s*%\s*$/.exec(v) ? Number(/^\s*([0-9.]+)/.exec(v)![1]) / 100 : NaN;
  if (!(m >= 0 && m < 1)) {
    ctx.addIssue({ code: 'custom', message: `expected a fraction like 0.02 or "2%", found ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return m;
});

const zRegex = z.string().transform((v, ctx) => {
  try {
    return new RegExp(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
    return z.NEVER;
  }
});

export const zTargets = z
  .strictObject({
    /** explicit pids */
    pids: z.array(z.number().int().min(1)).default([]),
    /** comm (process name, 15 chars) must match this regex */
    comm: zRegex.optional(),
    /** cgroup v2 path prefix, e.g. /system.slice/postgresql.service */
    cgroup: z.string().startsWith('/').optional(),
    /** processes with less anonymous RSS are left alone */
    minRss: zSize.prefault('64MiB'),
    /**
     * how often the process list is read for new matches while there are targets (a read is a
     * file per process on the host); with no target, every period
     */
    rescan: zDuration.prefault('10s'),
    vmas: z
      .strictObject({
        includeFilePrivate: z.boolean().default(false),
        minSize: zSize.prefault('2MiB'),
      })
      .prefault({}),
  })
  .prefault({});

export const zScan = z
  .strictObject({
    tracker: z.enum(['auto', 'idle_pages', 'page_idle', 'damon']).default('auto'),
    /** N: walks per period */
    walks: z.number().int().min(2).max(15).default(5),
    /** time between walks: "auto" tunes it so the hot set stays under policy.hotTarget of the fast tier */
    interval: z
      .union([z.string(), z.number()])
      .default('auto')
      .transform((v, ctx): 'auto' | number => {
        if (v === 'auto') return 'auto';
        const ms = parseDuration(v);
        if (ms === undefined) {
          ctx.addIssue({ code: 'custom', message: `expected "auto" or a duration like "500ms", found ${JSON.stringify(v)}` });
          return z.NEVER;
        }
        if (ms < 1) {
          ctx.addIssue({ code: 'custom', message: MS });
          return z.NEVER;
        }
        return ms;
      }),
    intervalMin: zDuration.prefault('50ms').refine(atLeastAMs, { message: MS }),
    intervalMax: zDuration.prefault('10s').refine(atLeastAMs, { message: MS }),
    initialInterval: zDuration.prefault('500ms').refine(atLeastAMs, { message: MS }),
    /** pause between periods, after migration */
    periodPause: zDuration.prefault('0s'),
    /**
     * after a period that moved (almost) nothing, the pause before the next one doubles up to
     * this (from one interval); a period that moves resets it. Walks cost CPU in proportion to
     * the memory walked, and a placed workload needs no walk every interval. 0 = never pause
     */
    settledPauseMax: zDuration.prefault('8s'),
    /**
     * the share of one CPU a settled placement may cost: past settledPauseMax, the settled pause
     * goes on doubling until a period's CPU is at most this share of its cycle (up to 60 s).
     * Where a period is cheap (gigabytes on a host) settledPauseMax bounds the pause; where it is
     * expensive (terabytes, a slow or shared CPU) this does. 0 = settledPauseMax alone
     */
    settledShare: z.number().min(0, SETTLED_SHARE).max(1, SETTLED_SHARE).default(0.05),
    /**
     * the share of one CPU tierd may use (daemon/cpu-budget.ts): the moves stop when the credit
     * is spent, and the pause after a period pays for the next one's walks and plan (a gap: the
     * next period primes its walks). Above 1 where its threads may use several CPUs; 0 = no bound,
     * the default (docs/design-notes.md, "A CPU budget")
     */
    cpuBudget: z.number().min(0, CPU_SHARE).max(64, CPU_SHARE).default(0),
    /**
     * largest idle_pages read (at most 1MiB). A read's bytes cover up to 32 KiB of address space
     * each, and the main thread folds one read without yielding (4–14 ns per 4 KiB page): 32 KiB
     * (1 GiB) keeps that near a millisecond, where 256 KiB held the event loop for 20–30 ms
     */
    bufferSize: zSize.prefault('32KiB'),
    /** open flags: SCAN_HUGE_PAGE, SCAN_SKIM_IDLE, SCAN_DIRTY_PAGE */
    hugePagesOnly: z.boolean().default(false),
    /**
     * ask the kernel to report a PTE table whose PMD accessed bit is clear as idle without reading
     * its PTEs (SCAN_SKIM_IDLE): a walk's cost then follows the accessed memory. Off by itself
     * where MGLRU also clears those bits; a kernel without it ignores the flag
     */
    skimIdle: z.boolean().default(true),
    /**
     * threads that make idle_pages reads off the main thread, one target each at a time
     * ('auto': half the CPUs tierd may run on, 1 to 8); 0 reads on the main thread. The
     * simulated host always reads on the main thread (its processes live there)
     */
    workers: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default('auto'),
    dirty: z.boolean().default(false),
  })
  .prefault({});

export const zPolicy = z
  .strictObject({
    /** hot = accessed in at least this many of the N walks (default N) */
    hotThreshold: z.number().int().min(1).max(15).optional(),
    /**
     * pages accessed in at least this many walks (below the hot threshold) fill the fast tier's
     * free room beyond the headroom, highest count first; 0 = only hot pages are promoted.
     * Default: 3 with a per-page tracker, 1 with DAMON (see fillThreshold() in load.ts)
     */
    fillThreshold: z.number().int().min(0).max(15).optional(),
    /** cold = accessed in at most this many walks ... */
    coldThreshold: z.number().int().min(0).max(14).default(0),
    /** ... in this many consecutive periods */
    coldPeriods: z.number().int().min(1).max(8).default(2),
    /**
     * free room kept in the fast tier, as a fraction of it: confirmed-cold pages are demoted only
     * as far as it needs, and warm pages fill the fast tier only beyond it (hot pages may use it)
     */
    freeReserve: zPercent.default(0.1),
    /**
     * free memory kept on every node, as a fraction of the node, or the kernel's zone watermarks
     * where they are larger (topology/roomOn). Small: the watermarks already keep move_pages'
     * allocations from failing; 2%, a guess from before room respected them, kept 5 GiB of a
     * 256 GiB node from hot pages
     */
    headroom: zPercent.default(0.005),
    /** a moved page stays put for this many periods */
    minResidency: z.number().int().min(0).max(1000).default(3),
    /** a page moved back within this many periods is a ping-pong */
    pingPongWindow: z.number().int().min(1).max(1000).default(10),
    /** widen the hot/cold gap when ping-pongs exceed this fraction of moved pages */
    pingPongLimit: zFraction.default(0.01),
    /** the hot set is kept below this fraction of the fast tier (auto interval) */
    hotTarget: zFraction.default(0.5),
    /** when the fast tier is full, a page there may make room for one whose count is at least this much higher (0 = never) */
    exchangeGap: z.number().int().min(0).max(15).default(2),
    /** demote straight to the lowest tier instead of one tier down */
    demoteToLowest: z.boolean().default(false),
    /** placement look-ups (move_pages query) per period, in pages */
    placementQueries: z.number().int().min(0).default(4_194_304),
  })
  .prefault({});

export const zMigrate = z
  .strictObject({
    promoteRate: zRate.prefault('256MiB/s').refine(atLeastAPage, { message: PAGE_RATE }),
    demoteRate: zRate.prefault('256MiB/s').refine(atLeastAPage, { message: PAGE_RATE }),
    /** most bytes moved per period, both directions */
    periodCap: zSize.prefault('1GiB').refine(atLeastAPage, { message: 'must be at least 4KiB: a cap of 0 moves nothing' }),
    /**
     * tierd's own memory: "slow" prefers the slowest tier's nodes and moves its pages there at
     * start (the fast tier is what it manages); "any" leaves the kernel's default
     */
    selfMemory: z.enum(['slow', 'any']).default('slow'),
    batchPages: z.number().int().min(1).max(16384).default(1024),
    /** halve batches when a move_pages call takes longer than this, down to 512 pages (the kernel's own migration batch) */
    callTarget: zDuration.prefault('20ms').refine((v) => v > 0, { message: 'must be above 0' }),
    /** MPOL_MF_SW_YOUNG: auto = when the kernel accepts it */
    swYoung: z.union([z.boolean(), z.literal('auto')]).default('auto'),
    /** MPOL_MF_MOVE_ALL also moves shared pages; needs CAP_SYS_NICE */
    moveAll: z.boolean().default(false),
    /**
     * who finds and moves pages: "pages" = tierd's trackers, planner and move_pages; "damos" =
     * DAMON's own migrate_hot/migrate_cold schemes (Linux 6.11+), each target in a cgroup of
     * its own, with tierd setting their quotas from the rates and the fast tier's free room
     */
    engine: z.enum(['pages', 'damos']).default('pages'),
    damos: z
      .strictObject({
        /** DAMON's sampling interval: one check of a sampled page's accessed bit per region */
        sample: zDuration.prefault('20ms').refine(atLeastAMs, { message: MS }),
        /** DAMON's aggregation interval: a region is hot with a sampled access in one of them */
        aggregation: zDuration.prefault('100ms').refine(atLeastAMs, { message: MS }),
        minRegions: z.number().int().min(3).default(10),
        maxRegions: z.number().int().min(3).default(1000),
        /**
         * how fast promotions may take the fast tier's free reserve (each such promotion is
         * paid for by a demotion); above the reserve they go at promoteRate
         */
        swapRate: zRate.prefault('4MiB/s').refine(atLeastAPage, { message: PAGE_RATE }),
        /** how often tierd reads the schemes' counters and sets their quotas */
        tune: zDuration.prefault('1s').refine((v) => v >= 100, { message: 'must be at least 100ms: each tune commits every kdamond' }),
      })
      .prefault({})
      .refine((d) => d.aggregation >= d.sample, { message: 'aggregation must be at least sample' })
      .refine((d) => d.maxRegions >= d.minRegions, { message: 'maxRegions must be at least minRegions' }),
  })
  .prefault({});

const zNodeEntry = z.strictObject({
  tier: z.number().int().min(0).max(7),
  promoteTo: z.number().int().min(0).optional(),
  demoteTo: z.number().int().min(0).optional(),
});

/** "auto" (tiers from the kernel's evidence) or { map: { id: { tier, promoteTo?, demoteTo? } } } */
export const zNodes = z.preprocess(
  (v) => (v === 'auto' || v === undefined ? {} : v),
  z.strictObject({
    map: z.record(z.string().regex(/^\d+$/, 'node ids are numbers'), zNodeEntry).optional(),
  }),
);

export const zConfig = z.strictObject({
  targets: zTargets,
  scan: zScan,
  policy: zPolicy,
  migrate: zMigrate,
  nodes: zNodes,
  journal: z
    .strictObject({
      /** keep a journal here (tierd report draws it); off when absent */
      path: z.string().min(1).optional(),
      /** at this size the file becomes PATH.1 and a new one begins */
      maxSize: zSize.prefault('64MiB').refine((v) => v >= 65536, { message: 'must be at least 64KiB: a record is about 1.3 KB with 128 bins' }),
      /** address bins per target and period */
      bins: z.number().int().min(8).max(1024).default(128),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      listen: z
        .string()
        .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT')
        // port 0: any free port, which the log line "metrics on /metrics and /healthz" gives
        .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, { message: 'the port must be 0..65535' })
        .default('127.0.0.1:9477'),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof zConfig>;
