import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamWriter } from '../../../src/formats/idle-pages/stream-writer.js';
import { decodeAll } from '../../../src/formats/idle-pages/decode.js';
import { PageType } from '../../../src/formats/idle-pages/types.js';

test('stream writer: runs of 15, SET_HVA on gaps, decodes back', () => {
  const w = new StreamWriter(4);
  w.add(0x10000000, PageType.PTE_ACCESSED, 20);
  w.add(0x10000000 + 20 * 4096, PageType.PTE_IDLE, 1);
  w.add(0x10200000, PageType.PMD_IDLE, 2);
  const { records } = decodeAll(w.buf.subarray(0, w.length));
  assert.deepEqual(records.map((r) => [r.addr.toString(16), r.type, r.count]), [
    ['10000000', 'PTE_ACCESSED', 15], ['1000f000', 'PTE_ACCESSED', 5], ['10014000', 'PTE_IDLE', 1], ['10200000', 'PMD_IDLE', 2],
  ]);
});
