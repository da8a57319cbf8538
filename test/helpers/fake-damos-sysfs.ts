import type { SysfsIo } from '../../src/kernel/linux/damon-sysfs.js';

/** a kernel's refusal, shaped as node's fs errors are */
function errno(code: string): Error {
  return Object.assign(new Error(code), { code });
}

export interface FakeKernelDamon {
  /** DAMOS actions the kernel knows (6.12: with migrate_hot/migrate_cold) */
  actions?: string[];
  filterTypes?: string[];
  operations?: string[];
  /** cgroup v2 paths that exist with the memory controller */
  memcgs?: string[];
  /** node → [first, last] memory block ids; blocks are 128 MiB */
  nodes?: Record<number, [number, number]>;
}

/**
 * DAMON's sysfs as the kernel lays it out, in memory: writing nr_kdamonds, nr_contexts,
 * nr_targets, nr_regions, nr_schemes or nr_filters makes (or removes) that many directories;
 * `state` takes on, off, commit and update_schemes_stats; an action, operation or filter type
 * the kernel lacks is EINVAL; nr_kdamonds is EBUSY while a kdamond is on.
 */
export class FakeDamosSysfs implements SysfsIo {
  readonly files = new Map<string, string>();
  /** each write in order, relative to the admin directory */
  readonly writes: string[] = [];
  /** kdamond k's scheme i's stats, as update_schemes_stats will copy them */
  readonly pendingStats = new Map<string, Record<string, number>>();
  /** file (relative to the admin directory) → how many more reads or writes answer EBUSY, as
   * when a kdamond holds damon_sysfs_lock */
  readonly busy = new Map<string, number>();
  private readonly actions: string[];
  private readonly filterTypes: string[];
  readonly admin: string;

  constructor(
    readonly sys: string,
    k: FakeKernelDamon = {},
  ) {
    this.admin = `${sys}/kernel/mm/damon/admin`;
    this.actions = k.actions ?? ['willneed', 'cold', 'pageout', 'hugepage', 'nohugepage', 'lru_prio', 'lru_deprio', 'migrate_hot', 'migrate_cold', 'stat'];
    this.filterTypes = k.filterTypes ?? ['anon', 'memcg', 'young', 'addr', 'target'];
    this.files.set(`${this.admin}/kdamonds/nr_kdamonds`, '0');
    this.files.set(`${sys}/devices/system/memory/block_size_bytes`, '8000000');
    for (const [node, [a, b]] of Object.entries(k.nodes ?? { 0: [0, 7], 1: [8, 23] }) as [string, [number, number]][]) {
      for (let m = a; m <= b; m++) this.files.set(`${sys}/devices/system/node/node${node}/memory${m}`, '');
    }
    this.files.set(`${sys}/fs/cgroup/cgroup.controllers`, 'cpu memory');
    for (const c of k.memcgs ?? []) this.files.set(`${sys}/fs/cgroup${c}/memory.current`, '0');
    this.operations = k.operations ?? ['vaddr', 'fvaddr', 'paddr'];
  }

  private readonly operations: string[];

  private busyNow(path: string): void {
    const rel = path.slice(this.admin.length + 1);
    const n = this.busy.get(rel) ?? 0;
    if (n <= 0) return;
    this.busy.set(rel, n - 1);
    throw errno('EBUSY');
  }

  read(path: string): string {
    this.busyNow(path);
    const v = this.files.get(path);
    if (v === undefined) throw errno('ENOENT');
    return v;
  }

  exists(path: string): boolean {
    return this.files.has(path) || [...this.files.keys()].some((k) => k.startsWith(`${path}/`));
  }

  list(path: string): string[] {
    const names = new Set<string>();
    for (const k of this.files.keys()) if (k.startsWith(`${path}/`)) names.add(k.slice(path.length + 1).split('/')[0]!);
    return [...names];
  }

  /** a file of kdamond k, relative to its contexts/0 */
  ctx(k: number, rel: string): string | undefined {
    return this.files.get(`${this.admin}/kdamonds/${k}/contexts/0/${rel}`);
  }

  write(path: string, value: string): void {
    this.busyNow(path);
    if (!this.files.has(path)) throw errno('ENOENT');
    const rel = path.slice(this.admin.length + 1);
    this.writes.push(`${rel}=${value}`);
    const kd = /^kdamonds\/(\d+)\//.exec(rel);
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    if (name === 'nr_kdamonds' && [...this.files].some(([f, v]) => f.endsWith('/state') && v === 'on')) throw errno('EBUSY');
    if (name === 'state') return this.setState(Number(kd![1]), value);
    if (name === 'action' && !this.actions.includes(value)) throw errno('EINVAL');
    if (name === 'type' && !this.filterTypes.includes(value)) throw errno('EINVAL');
    if (name === 'operations' && !this.operations.includes(value)) throw errno('EINVAL');
    this.files.set(path, value);
    if (name.startsWith('nr_')) this.resize(path.slice(0, path.lastIndexOf('/')), name, Number(value));
  }

  private setState(k: number, v: string): void {
    const state = `${this.admin}/kdamonds/${k}/state`;
    const on = this.files.get(state) === 'on';
    if (v === 'on' && !on) {
      // the kernel resolves a memcg filter's path when the kdamond starts
      for (const [f, path] of this.files) {
        const isMemcg = this.files.get(f.replace(/memcg_path$/, 'type')) === 'memcg';
        if (f.startsWith(`${this.admin}/kdamonds/${k}/`) && f.endsWith('/memcg_path') && isMemcg && !this.files.has(`${this.sys}/fs/cgroup${path}/memory.current`)) throw errno('EINVAL');
      }
      this.files.set(state, 'on');
    } else if (v === 'off' && on) this.files.set(state, 'off');
    else if ((v === 'commit' || v === 'update_schemes_stats') && on) {
      if (v === 'update_schemes_stats') this.copyStats(k);
    } else throw errno('EINVAL');
  }

  private copyStats(k: number): void {
    for (const [key, st] of this.pendingStats) {
      const [kk, i] = key.split(':').map(Number);
      if (kk !== k) continue;
      for (const [n, v] of Object.entries(st)) this.files.set(`${this.admin}/kdamonds/${k}/contexts/0/schemes/${i}/stats/${n}`, String(v));
    }
  }

  /** the directories an nr_ file makes, each with the files the kernel puts there */
  private resize(dir: string, name: string, n: number): void {
    const sub = { nr_kdamonds: '', nr_contexts: '', nr_targets: '', nr_regions: '', nr_schemes: '', nr_filters: '' }[name];
    if (sub === undefined) return;
    for (const k of [...this.files.keys()]) {
      const m = new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(\\d+)/`).exec(k);
      if (m && Number(m[1]) >= n) this.files.delete(k);
    }
    for (let i = 0; i < n; i++) for (const [f, v] of Object.entries(this.template(name))) this.files.set(`${dir}/${i}/${f}`, v);
  }

  private template(name: string): Record<string, string> {
    const pattern = Object.fromEntries(['sz', 'nr_accesses', 'age'].flatMap((r) => [[`access_pattern/${r}/min`, '0'], [`access_pattern/${r}/max`, '0']]));
    const t: Record<string, Record<string, string>> = {
      nr_kdamonds: { state: 'off', pid: '-1', 'contexts/nr_contexts': '0' },
      nr_contexts: {
        avail_operations: this.operations.join('\n'),
        operations: 'vaddr',
        'monitoring_attrs/intervals/sample_us': '5000',
        'monitoring_attrs/intervals/aggr_us': '100000',
        'monitoring_attrs/intervals/update_us': '1000000',
        'monitoring_attrs/nr_regions/min': '10',
        'monitoring_attrs/nr_regions/max': '1000',
        'targets/nr_targets': '0',
        'schemes/nr_schemes': '0',
      },
      nr_targets: { pid_target: '0', 'regions/nr_regions': '0' },
      nr_regions: { start: '0', end: '0' },
      nr_schemes: {
        action: 'stat',
        target_nid: '0',
        ...pattern,
        'quotas/ms': '0',
        'quotas/bytes': '0',
        'quotas/reset_interval_ms': '0',
        'filters/nr_filters': '0',
        ...Object.fromEntries(['nr_tried', 'sz_tried', 'nr_applied', 'sz_applied', 'qt_exceeds'].map((s) => [`stats/${s}`, '0'])),
      },
      nr_filters: { type: 'anon', matching: 'N', memcg_path: '' },
    };
    return t[name]!;
  }
}
