import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StageCpu } from '../../src/daemon/stage-cpu.js';

test('each mark charges the CPU since the previous one to its stage, with the system part kept apart', () => {
  const u = { user: 0, system: 0 };
  const cpu = new StageCpu(() => ({ ...u }));
  u.user += 3000;
  u.system += 1000;
  cpu.mark('walks');
  u.user += 500;
  u.system += 7500;
  cpu.mark('move');
  u.user += 250;
  cpu.mark('walks');
  assert.deepEqual(cpu.take(), { cpuMs: { walks: 4.3, move: 8 }, sysMs: { walks: 1, move: 7.5 } });
});

test('take starts the next period from nothing', () => {
  const u = { user: 0, system: 0 };
  const cpu = new StageCpu(() => ({ ...u }));
  u.user += 2000;
  cpu.mark('plan');
  cpu.take();
  u.system += 4000;
  cpu.mark('move');
  assert.deepEqual(cpu.take(), { cpuMs: { move: 4 }, sysMs: { move: 4 } });
});
