import { readFileSync } from 'node:fs';
import { TierdError, fsErrorCode } from '../util/errors.js';
import { parseYaml, schemaError } from '../util/yaml-errors.js';
import { zConfig, type Config } from './schema.js';
import type { NodeMapEntry } from '../topology/topology.js';
import { StateSpace } from '../heat/states.js';
import { durationText, sizeText } from '../util/units.js';

export const DEFAULT_CONFIG_PATH = '/etc/tierd/tierd.yaml';

export function defaultConfig(): Config {
  return zConfig.parse({});
}

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = fsErrorCode(e) ?? String(e);
    throw new TierdError('CONFIG', `cannot read config ${file}: ${code}`, code === 'ENOENT' ? `create it (see config/tierd.yaml) or pass --config FILE` : 'check the file permissions');
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file = 'config'): Config {
  // an empty file is a mistake (a truncated file, a wrong path), never "all defaults": say {} for that
  if (text.trim() === '' || text.split('\n').every((l) => /^\s*(#.*)?$/.test(l))) {
    throw new TierdError('CONFIG', `${file}: the file is empty`, 'write the settings (see config/tierd.yaml), or "{}" for all defaults');
  }
  const parsed = parseYaml(text, file, 'CONFIG');
  const r = zConfig.safeParse(parsed.value ?? {});
  if (!r.success) throw schemaError(r.error.issues, parsed, file, 'CONFIG', 'see config/tierd.yaml for every key');
  const c = r.data;
  // rules that span keys
  const where = (key: string): string => {
    const node = parsed.doc.getIn(key.split('.'), true) as { range?: [number, number] } | undefined;
    return node?.range ? `${file}:${parsed.lines.linePos(node.range[0]).line}` : file;
  };
  if (c.policy.hotThreshold !== undefined && c.policy.hotThreshold > c.scan.walks) {
    throw new TierdError('CONFIG', `${where('policy.hotThreshold')}: policy.hotThreshold: ${c.policy.hotThreshold} is more than scan.walks (${c.scan.walks})`, 'a page cannot be accessed in more walks than there are');
  }
  if (c.policy.coldThreshold >= (c.policy.hotThreshold ?? c.scan.walks)) {
    throw new TierdError('CONFIG', `${where('policy.coldThreshold')}: policy.coldThreshold: ${c.policy.coldThreshold} must be below the hot threshold`, 'lower policy.coldThreshold');
  }
  if (c.policy.fillThreshold !== undefined && c.policy.fillThreshold > 0 && c.policy.fillThreshold <= c.policy.coldThreshold) {
    throw new TierdError('CONFIG', `${where('policy.fillThreshold')}: policy.fillThreshold: ${c.policy.fillThreshold} must be above policy.coldThreshold (${c.policy.coldThreshold})`, 'raise policy.fillThreshold, or set it to 0 to promote hot pages only');
  }
  if (c.scan.intervalMin > c.scan.intervalMax) {
    throw new TierdError('CONFIG', `${where('scan.intervalMin')}: scan.intervalMin is above scan.intervalMax`, 'swap them');
  }
  if (c.scan.bufferSize < 20) throw new TierdError('CONFIG', `${where('scan.bufferSize')}: scan.bufferSize: ${c.scan.bufferSize} bytes is below the kernel's minimum read`, 'use 64KiB to 1MiB');
  try {
    new StateSpace({ walks: c.scan.walks, coldPeriods: c.policy.coldPeriods, tiers: 4 });
  } catch (e) {
    if (e instanceof TierdError) throw new TierdError('CONFIG', `${where('scan.walks')}: ${e.message}`, e.hint);
    throw e;
  }
  return c;
}

export function nodeMap(c: Config): Record<number, NodeMapEntry> | undefined {
  if (c.nodes.map === undefined) return undefined;
  const out: Record<number, NodeMapEntry> = {};
  for (const [k, v] of Object.entries(c.nodes.map)) {
    const e: NodeMapEntry = { tier: v.tier };
    if (v.promoteTo !== undefined) e.promoteTo = v.promoteTo;
    if (v.demoteTo !== undefined) e.demoteTo = v.demoteTo;
    out[Number(k)] = e;
  }
  return out;
}

export function hotThreshold(c: Config): number {
  return c.policy.hotThreshold ?? c.scan.walks;
}

/**
 * The fill threshold: the configured one, else 3 walks for a tracker that reads each page's own
 * access bit and 1 for one that samples regions (DAMON). One access in one period is a cold
 * page's noise floor when the bit is the page's own; under DAMON a page's "accessed" is a sample
 * of its region's density, which in 5 walks rarely comes up 3 times even for a region in use,
 * so 3 of 5 left the room empty (the zipf workload: 6 MiB hot, room for 840 MiB unused). Never at
 * or below the cold threshold, which would fill with confirmed-cold pages.
 */
export function fillThreshold(c: Config, grain: 'page' | 'region'): number {
  return c.policy.fillThreshold ?? defaultFillThreshold(c, grain);
}

const defaultFillThreshold = (c: Config, grain: 'page' | 'region'): number => Math.max(grain === 'region' ? 1 : 3, c.policy.coldThreshold + 1);

/**
 * Walks in which a fill candidate must be seen to displace a confirmed-cold fast-tier page:
 * one more than the default fill threshold, whatever fill threshold is set. A lower fill
 * threshold spends free room on thinner evidence; room held by cold pages costs a demotion
 * too, and at 3 of 5 equally cold pages traded places (see displaceCold in the planner).
 */
export function displaceThreshold(c: Config, grain: 'page' | 'region'): number {
  return defaultFillThreshold(c, grain) + 1;
}

const SIZE_KEYS = new Set(['minRss', 'minSize', 'bufferSize', 'periodCap']);
const DURATION_KEYS = new Set(['rescan', 'interval', 'intervalMin', 'intervalMax', 'initialInterval', 'periodPause', 'settledPauseMax', 'callTarget', 'sample', 'aggregation', 'tune']);
const RATE_KEYS = new Set(['promoteRate', 'demoteRate', 'swapRate']);

/**
 * The effective config as YAML-able data that reads back to the same config: sizes, durations and
 * rates with their units ("64MiB", "500ms", "256MiB/s"), regexes as their source.
 */
export function effective(c: Config): unknown {
  return JSON.parse(
    JSON.stringify(c, (k, v: unknown) => {
      if (v instanceof RegExp) return v.source;
      if (typeof v !== 'number') return v;
      if (SIZE_KEYS.has(k)) return sizeText(v);
      if (DURATION_KEYS.has(k)) return durationText(v);
      if (RATE_KEYS.has(k)) return `${sizeText(v)}/s`;
      return v;
    }),
  ) as unknown;
}
