// Runs inside the NUMA VM, in a fresh boot per contender: one contender against one workload,
// measured from outside every contender. Ground truth: the workload's own access shares per
// page (it prints them) and move_pages in query mode on its pages every SAMPLE seconds. Prints
// one COMPARE_RESULT line (JSON) that bench/vm-compare.ts turns into the table.
//   TIERD_CONTENDER  nothing | nb | damon | damon-young | tierd-idle_pages | tierd-page_idle | tierd-damon
//   TIERD_WORKLOAD   shift | zipf | full | full-both | multi | redis
//   TIERD_PHASE      seconds per phase (the hot set moves once, after the first)
//   TIERD_LOG        tierd's log level (info: each period prints one compact line)
//   TIERD_POLICY     tierd policy keys to set, "key:value,key:value"
//   TIERD_SCAN       tierd scan keys to set, the same way (e.g. skimIdle:false)
//   TIERD_MIGRATE    tierd migrate keys to set, the same way (e.g. callTarget:1s)
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { LinuxKernel } from '../../../dist/src/kernel/linux/linux-kernel.js';

const contender = process.env.TIERD_CONTENDER ?? 'nothing';
const workload = process.env.TIERD_WORKLOAD ?? 'shift';
const phaseS = Number(process.env.TIERD_PHASE ?? 90);
const tierdLog = process.env.TIERD_LOG ?? 'info';
// policy keys to try, "key:value,key:value" (no spaces: it comes through the kernel command line);
// a dotted key sets a nested one: "damos.sample:20ms,damos.aggregation:400ms" is damos: { sample: 20ms, aggregation: 400ms }
const yamlPairs = (s) => {
  const flat = [];
  const nested = new Map();
  for (const kv of (s ?? '').split(',').filter(Boolean)) {
    const at = kv.indexOf(':');
    const [key, value] = [kv.slice(0, at), kv.slice(at + 1)];
    const dot = key.indexOf('.');
    if (dot < 0) flat.push(`${key}: ${value}`);
    else nested.set(key.slice(0, dot), [...(nested.get(key.slice(0, dot)) ?? []), `${key.slice(dot + 1)}: ${value}`]);
  }
  return [...flat, ...[...nested].map(([k, pairs]) => `${k}: { ${pairs.join(', ')} }`)];
};
/** A flow-style config section from fixed pairs and the pairs of bench:vm's POLICY/SCAN/MIGRATE, or nothing when both are empty. */
const configSection = (name, fixed, passed) => {
  const pairs = [...fixed, ...yamlPairs(passed)];
  return pairs.length > 0 ? `${name}: { ${pairs.join(', ')} }\n` : '';
};
const SAMPLE_S = 2;
const CLI = 'dist/src/cli/main.js';
const PAGE = 4096;
const k = new LinuxKernel();
const log = (m) => console.log(`[compare] ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const write = (path, v) => writeFileSync(path, String(v));

function nodeMeminfo(id) {
  const t = readFileSync(`/sys/devices/system/node/node${id}/meminfo`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(t)[1]) * 1024;
  return { total: kb('MemTotal'), free: kb('MemFree') };
}

/**
 * Pages a promotion may take on a node without waking kswapd, by the kernel's own test for its
 * NUMA-balancing promotions (migrate_balanced_pgdat): a zone's free pages above its high
 * watermark plus the reserve it keeps from movable allocations (the last `protection` entry).
 * On the VM's node 0 that reserve is 991 pages of DMA, which the sum of high watermarks alone
 * counted as room.
 */
function promotionRoom(id) {
  let node = -1, pages = 0;
  let zone = null;
  const close = () => { if (zone && node === id) pages += Math.max(0, zone.free - zone.high - zone.protection); };
  for (const l of readFileSync('/proc/zoneinfo', 'utf8').split('\n')) {
    const h = /^Node (\d+), zone/.exec(l);
    if (h) { close(); node = Number(h[1]); zone = { free: 0, high: 0, protection: 0 }; continue; }
    let m;
    if ((m = /^\s+pages free\s+(\d+)$/.exec(l))) zone.free = Number(m[1]);
    else if ((m = /^\s+high\s+(\d+)$/.exec(l))) zone.high = Number(m[1]);
    else if ((m = /^\s+protection: \((.*)\)$/.exec(l))) zone.protection = Number(m[1].split(',').pop()) || 0;
  }
  close();
  return pages;
}

/** a process's resident pages on node `id`, from the N<id>= counts of its numa_maps */
function pagesOnNode(pid, id) {
  try {
    let n = 0;
    for (const m of readFileSync(`/proc/${pid}/numa_maps`, 'utf8').matchAll(new RegExp(`\\bN${id}=(\\d+)`, 'g'))) n += Number(m[1]);
    return n;
  } catch {
    return 0;
  }
}

/**
 * Who holds node 0: the kernel's per-node counters (MiB) and the node-0 pages of the workload
 * (its first process), tierd, the filler and this harness. Logged when the room is measured and at each phase's end, so a room
 * that shrinks under a contender shows who took it.
 */
function node0Ledger(what, procs) {
  const t = readFileSync('/sys/devices/system/node/node0/meminfo', 'utf8');
  const mib = (name) => (Number(new RegExp(`Node 0 ${name}:\\s+(\\d+) kB`).exec(t)?.[1] ?? 0) / 1024).toFixed(0);
  const counters = ['MemFree', 'FilePages', 'AnonPages', 'Slab', 'PageTables', 'KernelStack'].map((n) => `${n} ${mib(n)}`).join(', ');
  const owners = Object.entries(procs).filter(([, pid]) => pid).map(([name, pid]) => `${name} ${(pagesOnNode(pid, 0) / 256).toFixed(1)}`).join(', ');
  log(`node 0 ${what}: room ${(promotionRoom(0) / 256).toFixed(1)} MiB; ${counters} MiB; node-0 MiB of ${owners}`);
}

/** utime + stime in seconds of a process (all its threads) */
function cpuOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100 };
  } catch {
    return { user: 0, sys: 0 };
  }
}
/** CPU seconds of the kernel threads whose comm matches re */
function kthreadCpu(re) {
  let s = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (re.test(readFileSync(`/proc/${d}/comm`, 'utf8').trim())) {
        const c = cpuOf(d);
        s += c.user + c.sys;
      }
    } catch {}
  }
  return s;
}
const vmstat = () => Object.fromEntries(readFileSync('/proc/vmstat', 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([a, b]) => [a, Number(b)]));

const WORKLOAD = 'test/vm/guest/compare-workload';
const REDIS_CLIENT = 'test/vm/guest/redis-client';
const REDIS_SOCKET = '/tmp/redis.sock';
// the redis workload: 320 Ki values of 4000 bytes (one 4 KiB page each under jemalloc), 1.25 GiB
// of values against about 700 MiB of room on node 0, GETs Zipfian with theta 0.99
const REDIS_KEYS = 327680;
const REDIS_VALUE = 4000;
/** the same program under another name: its comm tells tierd's selector it is not the workload */
const FILLER = '/tmp/compare-filler';

/**
 * tierd-damos moves by memcg: the measured processes run in a cgroup of their own, joined
 * before exec so that every page they touch is charged to it (the redis client, the filler and
 * this harness stay outside). Every other contender runs them as before.
 */
const DAMOS_CGROUP = '/compare-targets';
function spawnScored(exe, args, opts, measured) {
  if (contender !== 'tierd-damos' || !measured) return spawn(exe, args, opts);
  mkdirSync(`/sys/fs/cgroup${DAMOS_CGROUP}`, { recursive: true });
  write('/sys/fs/cgroup/cgroup.subtree_control', '+memory');
  return spawn('sh', ['-c', `echo $$ > /sys/fs/cgroup${DAMOS_CGROUP}/cgroup.procs && exec "$0" "$@"`, exe, ...args], opts);
}

/** Start a compare-workload; resolves with its layout line, and follows its ops lines (and its other lines, in events). */
function startWorkload(args, exe = WORKLOAD) {
  if (exe !== WORKLOAD && !existsSync(exe)) symlinkSync(`${process.cwd()}/${WORKLOAD}`, exe);
  const p = spawnScored(exe, args, { stdio: ['ignore', 'pipe', 'inherit'] }, exe === WORKLOAD || (exe === FILLER && workload === 'full-both'));
  const ops = [];
  const events = [];
  let buf = '';
  return new Promise((resolve, reject) => {
    let layout = null;
    p.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const j = JSON.parse(line);
        if (layout === null) {
          layout = j;
          resolve({ proc: p, ops, events, ...j });
        } else if ('ops' in j) ops.push(j);
        else events.push(j);
      }
    });
    p.on('exit', (c) => reject(new Error(`workload exited ${c}`)));
  });
}

/** shares per page, from the run-length list */
function expand(rl, pages) {
  const out = new Float64Array(pages);
  let i = 0;
  for (const [n, s] of rl) {
    out.fill(s, i, i + n);
    i += n;
  }
  return out;
}

/** addresses of the pages of [[address, pages], ...] ranges, in order */
function pageAddrs(ranges) {
  const out = new Float64Array(ranges.reduce((n, [, c]) => n + c, 0));
  let i = 0;
  for (const [a, c] of ranges) for (let j = 0; j < c; j++) out[i++] = a + j * PAGE;
  return out;
}

/**
 * A scored process: its pid, the addresses of the pages its accesses go to, their shares of its
 * accesses per phase, its weight in the whole workload's accesses, where its ops lines arrive,
 * and the processes whose CPU is the workload's.
 */
function scored(w, { pid = w.proc.pid, weight = 1, procs = [w.proc] } = {}) {
  const addrs = pageAddrs(w.ranges ?? [[w.base, w.size / PAGE]]);
  const shares = w.phases.map((rl) => expand(rl, addrs.length).map((x) => x * weight));
  return { pid, addrs, shares, ops: w.ops, procs };
}

/** node of every scored page, in the order of the concatenated instances */
function placement(instances, out) {
  const addrs = new Float64Array(1024);
  const st = new Int32Array(1024);
  let at = 0;
  for (const w of instances) {
    const pages = w.addrs.length;
    for (let i = 0; i < pages; i += 1024) {
      const c = Math.min(1024, pages - i);
      addrs.set(w.addrs.subarray(i, i + c));
      k.movePages(w.pid, c, addrs, null, st, 0);
      out.set(st.subarray(0, c), at + i);
    }
    at += pages;
  }
}

/** Debian's redis-server on a unix socket (no persistence), and the client that loads and drives it */
async function startRedis() {
  const server = spawnScored('/usr/bin/redis-server', ['--port', '0', '--unixsocket', REDIS_SOCKET, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'inherit'] }, true);
  server.on('exit', (c) => log(`redis-server exited ${c}`));
  const started = Date.now();
  const client = await startWorkload([REDIS_SOCKET, String(server.pid), String(REDIS_KEYS), String(REDIS_VALUE), '99', String(phaseS), '1'], REDIS_CLIENT);
  log(`redis: ${client.keys} values loaded and found in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { ...scored(client, { pid: server.pid, procs: [server, client.proc] }), asker: client };
}

/** the workload's processes, started, each scored; several processes weigh the same */
async function startScored() {
  if (workload === 'redis') return [await startRedis()];
  if (workload === 'multi') {
    // several processes on the wrong node: three of 320 MiB, each with its own hot and warm sets
    const ws = await Promise.all([1, 2, 3].map((seed) => startWorkload(['shift', '320', '40', '80', String(phaseS), String(seed)])));
    return ws.map((w) => scored(w, { weight: 1 / ws.length }));
  }
  const args = workload === 'zipf' ? ['zipf', '1024', '99', String(phaseS), '1'] : ['shift', '1024', '128', '256', String(phaseS), '1'];
  return [scored(await startWorkload(args))];
}

/** one array per phase: the instances' shares, concatenated */
const concatShares = (instances) => [0, 1].map((ph) => {
  const out = new Float64Array(instances.reduce((n, w) => n + w.addrs.length, 0));
  let at = 0;
  for (const w of instances) {
    out.set(w.shares[ph], at);
    at += w.addrs.length;
  }
  return out;
});

const sumCpu = (procs) => procs.map((p) => cpuOf(p.pid)).reduce((a, b) => ({ user: a.user + b.user, sys: a.sys + b.sys }), { user: 0, sys: 0 });

/** the best possible hit ratio: the highest shares, as many pages as fit in `pages` */
function best(shares, pages) {
  const s = Float64Array.from(shares).sort().reverse();
  let h = 0;
  for (let i = 0; i < Math.min(pages, s.length); i++) h += s[i];
  return h;
}

/**
 * DAMON paddr: migrate_hot on node 1 → node 0, migrate_cold on node 0 → node 1 (HMSDK's shape).
 * `young` adds DAMOS page filters (6.10+; the migrate actions are 6.11+): migrate_hot moves
 * only the pages of a hot region whose accessed bit is set when the scheme applies, migrate_cold
 * only those whose bit is clear, so the kernel moves page by page what its regions can only tell
 * apart in bulk.
 */
function startDamonSchemes(young) {
  const block = parseInt(readFileSync('/sys/devices/system/memory/block_size_bytes', 'utf8').trim(), 16);
  const range = (node) => {
    const ids = readdirSync(`/sys/devices/system/node/node${node}`).filter((d) => /^memory\d+$/.test(d)).map((d) => Number(d.slice(6)));
    return [Math.min(...ids) * block, (Math.max(...ids) + 1) * block];
  };
  const a = '/sys/kernel/mm/damon/admin/kdamonds';
  write(`${a}/nr_kdamonds`, 2);
  // DAMON=coldAgeS:30 (bench:vm) sets how long a region must look idle before its pages go down
  const set = Object.fromEntries((process.env.TIERD_DAMON ?? '').split(',').filter(Boolean).map((kv) => kv.split(':')));
  const coldAggrs = Math.round(Number(set.coldAgeS ?? 2) * 10);
  const plans = [
    { node: 1, action: 'migrate_hot', to: 0, acc: [1, 4294967295], age: [0, 4294967295] },
    { node: 0, action: 'migrate_cold', to: 1, acc: [0, 0], age: [coldAggrs, 4294967295] },
  ];
  plans.forEach((p, i) => {
    const c = `${a}/${i}/contexts`;
    write(`${c}/nr_contexts`, 1);
    write(`${c}/0/operations`, 'paddr');
    const iv = `${c}/0/monitoring_attrs`;
    write(`${iv}/intervals/sample_us`, 5000);
    write(`${iv}/intervals/aggr_us`, 100000);
    write(`${iv}/intervals/update_us`, 1000000);
    write(`${iv}/nr_regions/min`, 10);
    write(`${iv}/nr_regions/max`, 1000);
    write(`${c}/0/targets/nr_targets`, 1);
    write(`${c}/0/targets/0/regions/nr_regions`, 1);
    const [lo, hi] = range(p.node);
    write(`${c}/0/targets/0/regions/0/start`, lo);
    write(`${c}/0/targets/0/regions/0/end`, hi);
    write(`${c}/0/schemes/nr_schemes`, 1);
    const s = `${c}/0/schemes/0`;
    write(`${s}/action`, p.action);
    write(`${s}/target_nid`, p.to);
    write(`${s}/access_pattern/sz/min`, PAGE);
    write(`${s}/access_pattern/sz/max`, 2 ** 40);
    write(`${s}/access_pattern/nr_accesses/min`, p.acc[0]);
    write(`${s}/access_pattern/nr_accesses/max`, p.acc[1]);
    write(`${s}/access_pattern/age/min`, p.age[0]);
    write(`${s}/access_pattern/age/max`, p.age[1]);
    // the same migration rate limit as tierd's default (256 MiB/s)
    write(`${s}/quotas/bytes`, 256 * 2 ** 20);
    write(`${s}/quotas/reset_interval_ms`, 1000);
    if (young) {
      // a filter filters out the pages for which "young" equals `matching`
      write(`${s}/filters/nr_filters`, 1);
      write(`${s}/filters/0/type`, 'young');
      write(`${s}/filters/0/matching`, p.action === 'migrate_hot' ? 'N' : 'Y');
    }
    write(`${a}/${i}/state`, 'on');
  });
}

/**
 * Redis: the best hit ratio of the values the client had asked for by the end of each phase
 * (`ends`, wall-clock ms). No mechanism that learns from accesses can place a value no one has
 * asked for yet, and at the guest's few thousand GETs a second a phase leaves many popular
 * values unasked; this is the ceiling such a mechanism has (a page counts from its first value's
 * first GET, in either phase).
 */
async function bestOfAsked(w, shares, room, ends, placed) {
  const c = w.asker;
  const seen = c.events.length;
  c.proc.kill('SIGUSR1');
  for (let i = 0; i < 600 && c.events.length === seen; i++) await sleep(100);
  if (c.events.length === seen) throw new Error('redis-client did not write the keys it asked for');
  const { asked, startMs } = c.events[seen];
  const b = readFileSync(asked);
  const pairs = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const index = new Map();
  w.addrs.forEach((a, i) => index.set(a, i));
  const first = new Float64Array(w.addrs.length).fill(Infinity);
  for (let j = 0; j < pairs.length; j += 2) {
    if (pairs[j + 1] < 0) continue;
    const ms = startMs + pairs[j + 1] * 1000;
    for (let a = Math.floor(pairs[j] / PAGE) * PAGE; a < pairs[j] + REDIS_VALUE; a += PAGE) {
      const i = index.get(a);
      if (i !== undefined && ms < first[i]) first[i] = ms;
    }
  }
  logAskedPlaced(first, shares[1], placed, ends[1]);
  return ends.map((end, ph) => best(shares[ph].map((s, i) => (first[i] <= end ? s : 0)), room));
}

/**
 * Of the pages first asked for by `end`, by how long before it: how many, their share of the
 * accesses and the part of each on node 0 in the last sample. Says whether what a mechanism
 * left out was asked for long ago (missed) or just now (not seen yet).
 */
function logAskedPlaced(first, shares, placed, end) {
  const edges = [Infinity, 60, 30, 10, 0];
  for (let b = 0; b + 1 < edges.length; b++) {
    let pages = 0, on = 0, share = 0, shareOn = 0;
    for (let i = 0; i < first.length; i++) {
      const age = (end - first[i]) / 1000;
      if (!(age < edges[b] && age >= edges[b + 1])) continue;
      pages++;
      share += shares[i];
      if (placed[i] === 0) {
        on++;
        shareOn += shares[i];
      }
    }
    log(`asked ${edges[b + 1]}–${edges[b]} s before the end: ${pages} pages (${(pages / 256).toFixed(0)} MiB), share ${share.toFixed(3)}; on node 0 ${(on / Math.max(1, pages)).toFixed(3)} of the pages, ${(shareOn / Math.max(1e-12, share)).toFixed(3)} of the share`);
  }
}

const MiB = (b) => (b / 2 ** 20).toFixed(0);
/**
 * Start tierd with a comm selector; resolves once its first period has looked for targets (its
 * first log line: "new target" or "no process matches").
 */
function startTierd(tracker, comm, since) {
  // tierd-damos: DAMON's schemes move, tierd sets their quotas (migrate.engine damos)
  const scan = tracker === 'damos' ? [] : [`tracker: ${tracker}`];
  const migrate = tracker === 'damos' ? ['engine: damos'] : [];
  writeFileSync('/tmp/compare.yaml', `targets: { comm: "${comm}", minRss: 0 }\n${configSection('scan', scan, process.env.TIERD_SCAN)}${configSection('policy', [], process.env.TIERD_POLICY)}${configSection('migrate', migrate, process.env.TIERD_MIGRATE)}metrics: { enabled: false }\nlog: { level: ${tierdLog}, format: json }\n`);
  const prof = process.env.TIERD_PROFILE === '1' ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [];
  const started = Date.now();
  const tierd = spawn(process.execPath, [...prof, CLI, 'run', '--config', '/tmp/compare.yaml'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    tierd.stderr.on('data', (d) => {
      process.stdout.write(String(d).split('\n').filter((l) => l).map((l) => `[compare] tierd: ${tierdLine(l, since())}\n`).join(''));
      if (/new target|no process matches|damos engine/.test(String(d))) {
        log(`tierd ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        resolve(tierd);
      }
    });
    tierd.on('exit', (c) => reject(new Error(`tierd exited ${c} before its first period`)));
  });
}

/** one of tierd's JSON log lines, compact: a period as its timing, plan and moves (and, for the
 * damos engine, what the schemes tried: a quota spent on regions whose pages the filters drop), the rest cut */
function tierdLine(l, t0) {
  let r;
  try {
    r = JSON.parse(l);
  } catch {
    return l.slice(0, 300);
  }
  if (r.msg !== 'period') return l.slice(0, 300);
  const sum = (o) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
  return `t=${((Date.now() - t0) / 1000).toFixed(1)} period ${r.period} took ${(r.durationMs / 1000).toFixed(1)} s interval ${r.intervalMs} ms hot ${MiB(sum(r.hotBytes))} MiB (set ${MiB(r.hotSetBytes)}) plan +${MiB(r.plannedPromoteBytes)}/-${MiB(r.plannedDemoteBytes)} moved +${MiB(r.promotedBytes)}/-${MiB(r.demotedBytes)} MiB${r.triedPromoteBytes === undefined ? '' : ` tried +${MiB(r.triedPromoteBytes)}/-${MiB(r.triedDemoteBytes)} MiB`} failures ${JSON.stringify(r.failures)} pingpong ${r.pingPongPages} cpu ms ${JSON.stringify(r.cpuMs ?? {})} sys ms ${JSON.stringify(r.sysMs ?? {})}`;
}

const frameName = (n) => n.callFrame.functionName || '(anonymous)';
/** a profile node's function: name, file (from dist/ or node_modules/) and line */
const frameKey = (n) => `${frameName(n)} ${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;

/** tierd's CPU profile (node --cpu-prof): self time per function, the top 30, as [compare] lines */
function printProfile(dir) {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
    const dt = new Map();
    p.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
    const self = new Map();
    let total = 0;
    for (const n of p.nodes) {
      const us = dt.get(n.id) ?? 0;
      total += us;
      const key = frameKey(n);
      self.set(key, (self.get(key) ?? 0) + us);
    }
    log(`profile ${f}: ${(total / 1e6).toFixed(1)} s sampled`);
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 30);
    for (const [key, us] of top) log(`prof ${(us / 1e6).toFixed(2).padStart(7)} s ${((100 * us) / total).toFixed(1).padStart(5)}% ${key}`);
    printCallers(p, dt, top.slice(0, 12).map(([key]) => key));
    printLines(p, top.filter(([key]) => key.includes(' dist/src/')).slice(0, 6).map(([key]) => key));
  }
}

/** where in tierd's own top functions the samples fall: the source lines (of dist/) with the most ticks */
function printLines(p, keys) {
  for (const key of keys) {
    const ticks = new Map();
    for (const n of p.nodes) {
      if (frameKey(n) !== key) continue;
      for (const { line, ticks: t } of n.positionTicks ?? []) ticks.set(line, (ticks.get(line) ?? 0) + t);
    }
    const all = [...ticks.values()].reduce((a, b) => a + b, 0);
    const lines = [...ticks].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([l, t]) => `${l}: ${((100 * t) / all).toFixed(0)}%`);
    log(`prof-lines ${key}: ${lines.join(', ')}`);
  }
}

/** who calls the top functions: for each, its self time by the chain of up to four named callers above it */
function printCallers(p, dt, keys) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  for (const key of keys) {
    const chains = new Map();
    for (const n of p.nodes) {
      if (frameKey(n) !== key) continue;
      const chain = [];
      for (let id = parent.get(n.id); id !== undefined && chain.length < 4; id = parent.get(id)) {
        const up = byId.get(id);
        if (frameName(up) !== '(anonymous)' && !/^(\(root\)|\(program\))$/.test(frameName(up))) chain.push(frameName(up));
      }
      const c = chain.join(' < ');
      chains.set(c, (chains.get(c) ?? 0) + (dt.get(n.id) ?? 0));
    }
    for (const [c, us] of [...chains].sort((a, b) => b[1] - a[1]).slice(0, 3)) log(`prof-callers ${(us / 1e6).toFixed(2).padStart(7)} s ${key.split(' ')[0]} < ${c}`);
  }
}

async function main() {
  const kthreads0 = { kswapd: kthreadCpu(/^kswapd/), kdamond: kthreadCpu(/^kdamond/) };
  const vm0 = vmstat();
  if (contender === 'nb') {
    write('/proc/sys/kernel/numa_balancing', 2);
    write('/sys/kernel/mm/numa/demotion_enabled', 'true');
  }
  let filler = null;
  if (workload.startsWith('full')) {
    // node 0 about 85% full of another process's rarely-touched memory: ~150 MiB stay free
    const mib = Math.floor((nodeMeminfo(0).free - 150 * 2 ** 20) / 2 ** 20);
    filler = await startWorkload(['filler', String(mib)], FILLER);
    log(`filler: ${mib} MiB on node 0, node 0 free now ${(nodeMeminfo(0).free / 2 ** 20).toFixed(0)} MiB`);
  }
  // tierd runs as a service does: started before the workload, it finds it by name (its
  // startup is not the placement's time, as the kernel's boot is not NUMA balancing's)
  let tierd = null;
  let t0 = Date.now();
  const comm = { 'full-both': '^compare-(workloa|filler)$', redis: '^redis-server$' }[workload] ?? '^compare-workloa$';
  if (contender.startsWith('tierd-')) tierd = await startTierd(contender.slice(6), comm, () => t0);
  const instances = await startScored();
  // the harness's own memory (its arrays, its V8 heap) goes to node 1 from here on, and what it
  // has on node 0 goes there now: the room it measures next is the contenders'. It held ~30 MiB
  // of node 0 and took ~7 MiB more between measuring the room and the first sample. Not earlier:
  // the processes it starts would inherit the policy, and the filler must fault in on node 0.
  const placed = k.placeSelf([1], [0]);
  if (placed !== null) log(`harness stays on node 0: ${placed}`);
  const pages = instances.reduce((n, w) => n + w.addrs.length, 0);
  const shares = concatShares(instances);
  const procs = instances.flatMap((w) => w.procs);
  // what fits: the room for promotions on node 0 when the workload has started (all of it on
  // node 1), by the kernel's own test (NUMA balancing's promotions stop there). A contender that
  // already moved some of it up while it started (tierd-damos's schemes act as soon as the
  // workload appears) has spent room on the workload's own pages: they count as room too
  const at0 = new Int32Array(pages);
  placement(instances, at0);
  const early = at0.reduce((n, x) => n + (x === 0 ? 1 : 0), 0);
  if (early > 0) log(`${early} of the workload's pages were on node 0 before the first sample: counted as room`);
  const room = promotionRoom(0) + early;
  const bestFree = shares.map((s) => best(s, room));
  const bestAll = filler ? shares.map((s) => best(s, room + filler.size / PAGE)) : bestFree;
  log(`workload ${workload}: ${instances.length} process(es), ${pages} pages, room for ${room} on node 0, best ${bestFree.map((b) => b.toFixed(3))}`);
  const owners = { workload: instances[0].pid, tierd: tierd?.pid, filler: filler?.proc.pid, harness: process.pid };
  node0Ledger('at start', owners);
  t0 = Date.now();
  const cpu0 = sumCpu(procs);
  const tierdCpu0 = tierd ? cpuOf(tierd.pid) : { user: 0, sys: 0 };
  let tierdCpu = tierdCpu0;
  let kdamondCpu = 0;
  if (contender === 'damon' || contender === 'damon-young') startDamonSchemes(contender === 'damon-young');
  const samples = [];
  const node = new Int32Array(pages);
  const prev = new Int32Array(pages).fill(-1);
  const lastDir = new Int8Array(pages);
  let up = 0, down = 0, back = 0;
  for (let t = 0; t <= 2 * phaseS; t += SAMPLE_S) {
    await sleep(Math.max(0, t0 + t * 1000 - Date.now()));
    placement(instances, node);
    const ph = (Date.now() - t0) / 1000 < phaseS ? 0 : 1;
    let hit = 0;
    for (let i = 0; i < pages; i++) {
      if (node[i] === 0) hit += shares[ph][i];
      if (prev[i] >= 0 && node[i] >= 0 && node[i] !== prev[i]) {
        const dir = node[i] === 0 ? 1 : -1;
        if (dir > 0) up++;
        else down++;
        if (lastDir[i] !== 0 && lastDir[i] !== dir) back++;
        lastDir[i] = dir;
      }
      prev[i] = node[i];
    }
    samples.push({ t: (Date.now() - t0) / 1000, phase: ph, hit });
    if (t < phaseS * (ph + 1) && t + SAMPLE_S >= phaseS * (ph + 1)) node0Ledger(`at the end of phase ${ph + 1}`, owners);
    if (tierd && tierd.exitCode === null) tierdCpu = cpuOf(tierd.pid);
    // kdamonds exit when their monitoring stops: read them while they run
    kdamondCpu = kthreadCpu(/^kdamond/) - kthreads0.kdamond;
  }
  const cpu1 = sumCpu(procs);
  const phaseEnd = (ph) => t0 + 1000 * (samples.filter((s) => s.phase === ph).at(-1)?.t ?? 0);
  const bestAsked = instances[0].asker ? await bestOfAsked(instances[0], shares, room, [phaseEnd(0), phaseEnd(1)], node) : null;
  if (tierd) {
    tierd.kill('SIGTERM');
    await new Promise((r) => (tierd.exitCode !== null ? r() : tierd.on('exit', r)));
  }
  if (process.env.TIERD_PROFILE === '1' && tierd) printProfile('/tmp/prof');
  if (contender.startsWith('damon')) for (const i of [0, 1]) write(`/sys/kernel/mm/damon/admin/kdamonds/${i}/state`, 'off');
  const vm1 = vmstat();
  // ops per second over a window, summed over the processes
  const rate = (from, to) => instances.reduce((sum, w) => {
    const x = w.ops.filter((o) => o.t > from && o.t <= to);
    return sum + (x.length ? x.reduce((s, o) => s + o.ops, 0) / x.length : 0);
  }, 0);
  const endOf = (ph) => {
    const x = samples.filter((s) => s.phase === ph).slice(-3);
    return x.reduce((s, v) => s + v.hit, 0) / Math.max(1, x.length);
  };
  const reach = (ph, b) => {
    const from = ph === 0 ? 0 : phaseS;
    const s = samples.find((v) => v.phase === ph && v.hit >= 0.9 * b);
    return s ? Math.max(0, s.t - from) : null;
  };
  const result = {
    contender, workload, phaseS, kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    best: bestFree, bestAll, bestAsked, hitEnd: [endOf(0), endOf(1)],
    reach: [reach(0, bestFree[0]), reach(1, bestFree[1])],
    reachAll: filler ? [reach(0, bestAll[0]), reach(1, bestAll[1])] : null,
    pagesUp: up, pagesDown: down, pagesBack: back,
    cpu: {
      tierd: tierdCpu.user - tierdCpu0.user + tierdCpu.sys - tierdCpu0.sys, tierdUser: tierdCpu.user - tierdCpu0.user, tierdSys: tierdCpu.sys - tierdCpu0.sys,
      kdamond: kdamondCpu, kswapd: kthreadCpu(/^kswapd/) - kthreads0.kswapd,
      workloadSys: cpu1.sys - cpu0.sys, workloadUser: cpu1.user - cpu0.user,
    },
    opsPerSec: [rate(0, phaseS), rate(phaseS, 2 * phaseS)],
    vmstat: Object.fromEntries(['pgpromote_success', 'pgdemote_kswapd', 'pgdemote_direct', 'pgdemote_khugepaged', 'numa_pages_migrated', 'pgmigrate_success', 'pgmigrate_fail', 'numa_hint_faults'].filter((n) => n in vm1).map((n) => [n, vm1[n] - (vm0[n] ?? 0)])),
    allocFailures: 0,
    samples: samples.map((s) => [Number(s.t.toFixed(1)), Number(s.hit.toFixed(4))]),
  };
  try {
    // the kernel's allocation-failure warnings during the run (move_pages to a node at its watermark)
    result.allocFailures = (execFileSync('dmesg', { encoding: 'utf8' }).match(/page allocation failure/g) ?? []).length;
  } catch {}
  console.log(`COMPARE_RESULT ${JSON.stringify(result)}`);
  for (const p of procs) p.kill('SIGKILL');
  filler?.proc.kill('SIGKILL');
  process.exit(0);
}

main().catch((e) => {
  console.log(`COMPARE_ERROR ${e?.stack ?? e}`);
  process.exit(1);
});
