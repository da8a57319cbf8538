// Runs inside the systemd boot of the NUMA VM (systemd as PID 1, a Debian root file system,
// tierd installed by the README's steps: npm pack, npm install -g, the unit and the DAMON
// profile in /etc/systemd/system). As an operator would: `tierd topology`, then
// `systemctl enable --now tierd` with a config targeting the workload; the service must start
// under its sandbox and move the workload's hot set to node 0; `systemctl reload` applies a
// changed config and keeps the old one when the new one is broken; `systemd-analyze security`
// scores the live unit; `systemctl stop` ends it cleanly. One VERDICT line per check.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { LinuxKernel } from '../../../dist/src/kernel/linux/linux-kernel.js';
import { startWorkload, verdicts } from './common.mjs';

const k = new LinuxKernel();
const { verdict, finish } = verdicts('systemd');
const sh = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const show = (prop) => sh('systemctl', ['show', 'tierd', '-p', prop, '--value']).stdout.trim();
/** tierd's journal since the unit started, as its JSON lines */
const journal = () => sh('journalctl', ['-u', 'tierd', '-o', 'cat', '--no-pager']).stdout;
/** tierd's last n warnings and errors, and everything that is not a JSON line (a fatal error is one plain line and its stack), as console lines */
const lastWords = (n) => journal().split('\n').filter((l) => l && (!l.startsWith('{') || /"level":(40|50|60)/.test(l))).slice(-n).map((l) => `[systemd] tierd: ${l.slice(0, 300)}`).join('\n');

function hotOnNode0(w) {
  const addrs = new Float64Array(1024);
  const st = new Int32Array(1024);
  let hot = 0, on0 = 0;
  for (const [off, len] of w.hot) {
    for (let a = w.base + off; a < w.base + off + len; a += 1024 * 4096) {
      const c = Math.min(1024, (w.base + off + len - a) / 4096);
      for (let j = 0; j < c; j++) addrs[j] = a + j * 4096;
      k.movePages(w.pid, c, addrs, null, st, 0);
      for (let j = 0; j < c; j++) { hot++; if (st[j] === 0) on0++; }
    }
  }
  return on0 / hot;
}

const CONFIG = (level) => `targets: { comm: "^workload$", minRss: 0 }\nscan: { tracker: auto }\nmetrics: { listen: 127.0.0.1:9477 }\nlog: { level: ${level}, format: json }\n`;

async function main() {
  console.log(`[systemd] systemd ${sh('systemctl', ['--version']).stdout.split('\n')[0]}, tierd ${sh('tierd', ['--version']).stdout.trim()} at ${sh('readlink', ['-f', '/usr/local/bin/tierd']).stdout.trim()}`);
  const topo = sh('tierd', ['topology']);
  console.log(topo.stdout.split('\n').map((l) => `[systemd] topology: ${l}`).join('\n'));
  verdict(topo.status === 0 && /^trackers: .*damon/m.test(topo.stdout), 'tierd topology runs as installed and offers the damon tracker');
  const w = await startWorkload(['workload', '512', '64']);
  writeFileSync('/etc/tierd/tierd.yaml', CONFIG('info'));
  const en = sh('systemctl', ['enable', '--now', 'tierd']);
  verdict(en.status === 0, `systemctl enable --now tierd (${en.stderr.trim().split('\n').pop() ?? ''})`);
  const t0 = Date.now();
  let f = 0;
  while (Date.now() - t0 < 240_000) {
    await sleep(5000);
    f = hotOnNode0(w);
    console.log(`[systemd] ${((Date.now() - t0) / 1000).toFixed(0)} s: ${show('ActiveState')}, hot set on node 0 ${(100 * f).toFixed(1)}%`);
    if (f >= 0.95 || show('ActiveState') !== 'active') break;
  }
  verdict(show('ActiveState') === 'active', `the service runs under its sandbox (${show('ActiveState')}/${show('SubState')})`);
  verdict(f >= 0.95, `>= 95% of the workload's hot set on node 0 (${(100 * f).toFixed(1)}% after ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  console.log(lastWords(12));

  writeFileSync('/etc/tierd/tierd.yaml', CONFIG('debug'));
  sh('systemctl', ['reload', 'tierd']);
  await sleep(3000);
  verdict(/config reloaded/.test(journal()) && show('ActiveState') === 'active', 'systemctl reload applies a changed config');
  writeFileSync('/etc/tierd/tierd.yaml', 'scan:\n  walks: many\n');
  sh('systemctl', ['reload', 'tierd']);
  await sleep(3000);
  verdict(/config reload failed; the running config stays/.test(journal()) && show('ActiveState') === 'active', 'a broken config is rejected on reload and the service keeps running');

  const sec = sh('systemd-analyze', ['security', 'tierd']);
  const exposure = /Overall exposure level for tierd\.service: ([0-9.]+)/.exec(sec.stdout)?.[1];
  console.log(`[systemd] systemd-analyze security tierd (live unit, DAMON profile): ${exposure}`);
  verdict(exposure !== undefined, `systemd-analyze security scores the live unit: ${exposure}`);

  const stop = sh('systemctl', ['stop', 'tierd']);
  const stoppedCleanly = stop.status === 0 && show('ActiveState') === 'inactive' && show('ExecMainStatus') === '0' && /"msg":"stopped"/.test(journal());
  verdict(stoppedCleanly, `systemctl stop ends it cleanly (exit status ${show('ExecMainStatus')})`);
  if (!stoppedCleanly) console.log(lastWords(20));
  // DAMON: tierd's kdamonds and tracefs instance are gone with it
  const nr = execFileSync('cat', ['/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds'], { encoding: 'utf8' }).trim();
  verdict(nr === '0', `no kdamond left behind (nr_kdamonds ${nr})`);
  w.proc.kill();
  finish();
}

main().catch((e) => {
  console.log(`VERDICT FAIL [systemd] ${e.stack ?? e}`);
  process.exit(1);
});
