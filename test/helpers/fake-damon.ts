import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A DAMON sysfs tree as the kernel lays it out (admin/kdamonds/0 with one context), with two
 * tried regions. With `tracefs`, also a tracefs whose tierd instance exists, with an empty
 * trace_pipe that a test appends lines to; the fake kdamond's thread id is 777.
 */
export function fakeDamonTree(existing = 0, tracefs = false): { sys: string; admin: string; instance: string } {
  const sys = mkdtempSync(join(tmpdir(), 'tierd-damon-'));
  const admin = join(sys, 'kernel/mm/damon/admin');
  const kd = join(admin, 'kdamonds/0');
  const ctx = join(kd, 'contexts/0');
  for (const d of ['monitoring_attrs/intervals', 'monitoring_attrs/nr_regions', 'targets/0', 'schemes/0/tried_regions/0', 'schemes/0/tried_regions/1', 'schemes/0/access_pattern/sz', 'schemes/0/access_pattern/nr_accesses', 'schemes/0/access_pattern/age']) mkdirSync(join(ctx, d), { recursive: true });
  const files: Record<string, string> = {
    [join(admin, 'kdamonds/nr_kdamonds')]: String(existing),
    [join(kd, 'state')]: 'off',
    [join(kd, 'contexts/nr_contexts')]: '0',
    [join(ctx, 'avail_operations')]: 'vaddr\nfvaddr\npaddr',
    [join(ctx, 'operations')]: 'paddr',
    [join(ctx, 'targets/nr_targets')]: '0',
    [join(ctx, 'targets/0/pid_target')]: '0',
    [join(ctx, 'schemes/nr_schemes')]: '0',
    [join(ctx, 'schemes/0/action')]: 'migrate_hot',
  };
  for (const k of ['sample_us', 'aggr_us', 'update_us']) files[join(ctx, 'monitoring_attrs/intervals', k)] = '0';
  for (const k of ['min', 'max']) files[join(ctx, 'monitoring_attrs/nr_regions', k)] = '0';
  for (const r of ['sz', 'nr_accesses', 'age']) for (const k of ['min', 'max']) files[join(ctx, 'schemes/0/access_pattern', r, k)] = '0';
  const regions = [[0x7f0000000000, 0x7f0000100000, 12, 3], [0x7f0000100000, 0x7f0000400000, 0, 40]];
  regions.forEach(([s, e, n, a], i) => {
    const d = join(ctx, `schemes/0/tried_regions/${i}`);
    writeFileSync(join(d, 'start'), String(s));
    writeFileSync(join(d, 'end'), String(e));
    writeFileSync(join(d, 'nr_accesses'), String(n));
    writeFileSync(join(d, 'age'), String(a));
  });
  files[join(kd, 'pid')] = '777';
  const instance = join(sys, 'kernel/tracing/instances/tierd');
  if (tracefs) {
    mkdirSync(join(sys, 'kernel/tracing/events/damon/damon_aggregated'), { recursive: true });
    mkdirSync(join(instance, 'events/damon/damon_aggregated'), { recursive: true });
    files[join(instance, 'trace_pipe')] = '';
  }
  for (const [f, v] of Object.entries(files)) writeFileSync(f, v);
  return { sys, admin, instance };
}
