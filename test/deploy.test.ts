import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Metrics } from '../src/metrics/metrics.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UNIT = join(ROOT, 'systemd/tierd.service');

/**
 * The unit (plus a drop-in's text, which systemd merges like an appended section) in a scratch
 * directory, its ExecStart pointed at a stand-in: verify checks that ExecStart is executable.
 */
function unitWithStandIn(dropIn = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'tierd-unit-'));
  const bin = join(dir, 'tierd');
  writeFileSync(bin, '#!/bin/sh\nexit 0\n');
  chmodSync(bin, 0o755);
  const unit = join(dir, 'tierd.service');
  writeFileSync(unit, readFileSync(UNIT, 'utf8').replace('/usr/local/bin/tierd', bin) + '\n' + dropIn);
  return unit;
}

test('systemd unit passes systemd-analyze verify and keeps move_pages', (t) => {
  if (!existsSync('/usr/bin/systemd-analyze')) {
    t.skip('systemd-analyze is missing: apt-get install systemd');
    return;
  }
  const r = spawnSync('/usr/bin/systemd-analyze', ['verify', unitWithStandIn()], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', r.stderr);
  const unit = readFileSync(UNIT, 'utf8');
  const filters = unit.split('\n').filter((l) => l.startsWith('SystemCallFilter='));
  assert.equal(filters[filters.length - 1], 'SystemCallFilter=move_pages', 'move_pages is allowed last, after the deny list');
  assert.ok(!filters.some((l) => l.includes('@resources') && l.includes('~')), '@resources holds move_pages: never denied');
});

test('systemd unit exposure score (systemd-analyze security --offline)', (t) => {
  if (!existsSync('/usr/bin/systemd-analyze')) {
    t.skip('systemd-analyze is missing');
    return;
  }
  // a copy: next to the repository's unit, systemd-analyze would merge every drop-in in
  // systemd/tierd.service.d/ (both profiles at once)
  const alone = join(mkdtempSync(join(tmpdir(), 'tierd-unit-')), 'tierd.service');
  writeFileSync(alone, readFileSync(UNIT, 'utf8'));
  const out = execFileSync('/usr/bin/systemd-analyze', ['security', '--offline=yes', alone], { encoding: 'utf8' });
  const m = /Overall exposure level for tierd\.service: ([0-9.]+)/.exec(out);
  assert.ok(m, out.slice(-500));
  process.stdout.write(`# systemd exposure level: ${m[1]}\n`);
  // the README's figure for the idle_pages profile (its own user, two ambient capabilities)
  assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]}`);
});

test('the Dockerfile lints clean (dockerfilelint)', () => {
  const bin = join(ROOT, 'node_modules/.bin/dockerfilelint');
  const r = spawnSync(bin, [join(ROOT, 'Dockerfile')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout);
  const df = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  for (const want of ['FROM node:20-bookworm-slim AS build', 'npm ci', 'npm prune --omit=dev', 'HEALTHCHECK', 'ENTRYPOINT ["tierd"]', 'CMD ["run"]']) assert.ok(df.includes(want), want);
});

test('the DaemonSet has hostPID, only the needed capabilities, the config map and scrape annotations', () => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy/kubernetes/base/daemonset.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
  const ds = docs.find((d) => d.kind === 'DaemonSet') as { spec: { template: { metadata: { annotations: Record<string, string> }; spec: { hostPID: boolean; containers: { securityContext: { capabilities: { add: string[]; drop: string[] } } }[] } } } };
  assert.equal(ds.spec.template.spec.hostPID, true);
  assert.deepEqual(ds.spec.template.spec.containers[0]!.securityContext.capabilities, { drop: ['ALL'], add: ['SYS_PTRACE', 'SYS_NICE', 'DAC_READ_SEARCH'] });
  assert.equal(ds.spec.template.metadata.annotations['prometheus.io/scrape'], 'true');
  assert.ok(docs.some((d) => d.kind === 'ConfigMap'));
});

test('every metric the Grafana dashboard queries exists', async () => {
  const dash = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/tierd.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  const names = new Set((await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name));
  const used = new Set<string>();
  for (const p of dash.panels) for (const t of p.targets) for (const m of t.expr.matchAll(/\b(tierd_[a-z_]+|process_[a-z_]+)/g)) used.add(m[1]!.replace(/_(bucket|sum|count)$/, ''));
  assert.ok(used.size >= 10);
  for (const u of used) assert.ok(names.has(u), `dashboard uses unknown metric ${u}`);
});

test('the README install (npm pack, npm install -g) gives an executable tierd that runs, at the path the unit starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tierd-install-'));
  // dist is already built by npm test; prepack (npm run build) is what a user's npm pack runs
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; version: string };
  assert.equal(pkg.scripts.prepack, 'npm run build');
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, stdio: 'pipe' });
  const tgz = join(dir, `tierd-${pkg.version}.tgz`);
  execFileSync('npm', ['install', '-g', '--prefix', join(dir, 'usr/local'), '--prefer-offline', '--no-audit', '--no-fund', tgz], { cwd: dir, stdio: 'pipe' });
  const bin = join(dir, 'usr/local/bin/tierd');
  assert.equal(readFileSync(UNIT, 'utf8').match(/^ExecStart=(\S+)/m)?.[1], '/usr/local/bin/tierd', 'the unit starts what the install creates');
  assert.equal(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim(), pkg.version);
  // topology loads koffi (move_pages) from the installed tree: its prebuilt binary is enough
  const topo = spawnSync(bin, ['topology'], { encoding: 'utf8' });
  assert.equal(topo.status, 0, topo.stderr);
  assert.match(topo.stdout, /move_pages MPOL_MF_SW_YOUNG/);
});

test('each tracker profile (the unit plus its drop-in) verifies clean; its exposure is printed', (t) => {
  if (!existsSync('/usr/bin/systemd-analyze')) {
    t.skip('systemd-analyze is missing');
    return;
  }
  const scores: string[] = [];
  for (const profile of ['idle_pages', 'page_idle', 'damon']) {
    const dropIn = profile === 'idle_pages' ? '' : readFileSync(join(ROOT, `systemd/tierd.service.d/${profile}.conf`), 'utf8');
    const unit = unitWithStandIn(dropIn);
    const v = spawnSync('/usr/bin/systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    assert.equal(v.status, 0, `${profile}: ${v.stderr}`);
    assert.equal(v.stderr.trim(), '', `${profile}: ${v.stderr}`);
    // scored as shipped (ExecStart in /usr/local/bin), one profile at a time
    const shipped = join(mkdtempSync(join(tmpdir(), 'tierd-unit-')), 'tierd.service');
    writeFileSync(shipped, readFileSync(UNIT, 'utf8') + '\n' + dropIn);
    const out = execFileSync('/usr/bin/systemd-analyze', ['security', '--offline=yes', shipped], { encoding: 'utf8' });
    scores.push(`${profile} ${/Overall exposure level for tierd\.service: ([0-9.]+)/.exec(out)?.[1]}`);
  }
  process.stdout.write(`# systemd exposure per profile: ${scores.join(', ')}\n`);
  const pageIdle = readFileSync(join(ROOT, 'systemd/tierd.service.d/page_idle.conf'), 'utf8');
  assert.match(pageIdle, /^AmbientCapabilities=CAP_SYS_ADMIN$/m);
  assert.match(pageIdle, /^ReadWritePaths=\/sys\/kernel\/mm\/page_idle\/bitmap$/m);
  assert.match(readFileSync(join(ROOT, 'systemd/tierd.service.d/damon.conf'), 'utf8'), /^ReadWritePaths=\/sys\/kernel\/mm\/damon \/sys\/kernel\/tracing$/m);
});

/** The DaemonSet a kustomization builds: its container's mounts and capabilities. */
function kustomized(kubectl: string, dir: string): { mounts: [string, boolean][]; caps: string[]; hostPaths: string[] } {
  const out = execFileSync(kubectl, ['kustomize', join(ROOT, 'deploy/kubernetes', dir)], { encoding: 'utf8' });
  type Ds = { kind: string; spec: { template: { spec: { containers: { volumeMounts: { mountPath: string; readOnly?: boolean }[]; securityContext: { capabilities: { add: string[] } } }[]; volumes: { hostPath?: { path: string } }[] } } } };
  const ds = parseAllDocuments(out).map((d) => d.toJS() as Ds).find((d) => d.kind === 'DaemonSet')!;
  const pod = ds.spec.template.spec;
  return {
    mounts: pod.containers[0]!.volumeMounts.map((m) => [m.mountPath, m.readOnly === true] as [string, boolean]).sort(),
    caps: pod.containers[0]!.securityContext.capabilities.add,
    hostPaths: pod.volumes.flatMap((v) => (v.hostPath ? [v.hostPath.path] : [])).sort(),
  };
}

test('the DaemonSet profiles: damon and page_idle add only their writable /sys paths and capability to the base', (t) => {
  const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((k) => existsSync(k));
  if (!kubectl) {
    t.skip('kubectl is not installed (Debian: kubernetes-client); the kustomizations are not built');
    return;
  }
  const base = kustomized(kubectl, 'base');
  assert.deepEqual(base.mounts, [['/etc/tierd', true], ['/sys', true]]);
  const damon = kustomized(kubectl, 'damon');
  assert.deepEqual(damon.mounts, [['/etc/tierd', true], ['/sys', true], ['/sys/kernel/mm/damon', false], ['/sys/kernel/tracing', false]]);
  assert.deepEqual(damon.caps, base.caps);
  assert.deepEqual(damon.hostPaths, ['/sys', '/sys/kernel/mm/damon', '/sys/kernel/tracing']);
  const pageIdle = kustomized(kubectl, 'page_idle');
  assert.deepEqual(pageIdle.mounts, [['/etc/tierd', true], ['/sys', true], ['/sys/kernel/mm/page_idle', false]]);
  assert.deepEqual(pageIdle.caps, [...base.caps, 'SYS_ADMIN']);
});
