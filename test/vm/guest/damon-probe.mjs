// Debugging aid: tierd's DAMON control on a running workload, printing what sysfs shows.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { LinuxDamon } from '../../../dist/src/kernel/linux/damon.js';

const w = spawn('test/vm/guest/workload', ['workload', '128', '16'], { stdio: ['ignore', 'pipe', 'inherit'] });
const info = await new Promise((r) => w.stdout.on('data', (d) => r(JSON.parse(String(d)))));
console.log('workload', JSON.stringify(info));
const d = new LinuxDamon('/sys');
console.log('unavailable:', d.unavailable());
d.start([info.pid], { sampleUs: 5000, aggrUs: 100000, updateUs: 1000000, minRegions: 10, maxRegions: 1000 });
const A = '/sys/kernel/mm/damon/admin/kdamonds/0';
for (let i = 0; i < 5; i++) {
  await new Promise((r) => setTimeout(r, 1500));
  console.log('state', readFileSync(`${A}/state`, 'utf8').trim(), 'pid', readFileSync(`${A}/pid`, 'utf8').trim());
  const regs = d.regions(info.pid);
  console.log('regions', regs === null ? 'null' : regs.length, JSON.stringify((regs ?? []).filter((g) => g.end > info.base && g.start < info.base + info.size).map((g) => [(g.start - info.base) / 1048576, (g.end - g.start) / 1048576, g.nrAccesses, g.age])));
  console.log('tried dir', readdirSync(`${A}/contexts/0/schemes/0/tried_regions`).join(' '));
}
d.stop();
w.kill();
