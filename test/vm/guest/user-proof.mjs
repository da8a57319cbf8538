// The idle_pages profile without root: a user that is not the target's, holding only
// CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH as ambient capabilities (what the unit's DynamicUser=
// with AmbientCapabilities= gives tierd), maps another user's process, reads its
// /proc/PID/idle_pages and moves its pages; the same user without them can do none of it.
// (KERNELS=trimmed GUEST_SUITES=user-proof npm run test:vm)
import { spawn, spawnSync } from 'node:child_process';

const log = (m) => console.log(`[user-proof] ${m}`);
const target = spawn('node', ['-e', 'const b = Buffer.alloc(32 << 20, 1); setInterval(() => { for (let i = 0; i < b.length; i += 4096) b[i]++; }, 20); process.stdout.write("ready\\n");'], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((r) => target.stdout.once('data', r));
const CAPS = '+sys_ptrace,+dac_read_search';
function probe(caps) {
  const priv = caps ? [`--inh-caps=-all,${caps}`, `--ambient-caps=-all,${caps}`, `--bounding-set=-all,${caps}`] : ['--inh-caps=-all', '--bounding-set=-all'];
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...priv, 'node', 'test/vm/guest/user-probe.mjs', String(target.pid)], { encoding: 'utf8' });
  log(`${caps ? 'with' : 'without'} ${CAPS}: exit ${r.status} ${r.stdout.trim()} ${r.stderr.trim()}`);
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { error: r.stderr || 'no output' };
  }
}
const withCaps = probe(CAPS);
const without = probe(null);
target.kill();
const ok = withCaps.error === null && withCaps.uid === 65534 && withCaps.maps > 0 && withCaps.idleBytes > 0 && withCaps.movedTo === 1 && without.error !== null;
console.log(`VERDICT user-proof ${ok ? 'passed' : 'FAILED'}: with the two capabilities ${withCaps.error ?? `${withCaps.idleBytes} idle_pages bytes read, page moved to node ${withCaps.movedTo}`}; without them: ${without.error ?? 'it worked (wrong)'}`);
process.exit(ok ? 0 : 1);
