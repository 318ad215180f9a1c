// The local ISO image: an ISO 9660 volume as readers find it — the primary volume descriptor at sector 16
// with its label and size, the terminator, and a root directory whose extent holds "." and "..".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyISO } from '../../src/devenv/iso.js';

const SECTOR = 2048;

describe('empty ISO 9660 image', () => {
  it('has the volume descriptors, path tables and root directory where readers look for them', () => {
    const iso = emptyISO('VMOP_TOOLS');
    assert.equal(iso.length, 21 * SECTOR);
    const pvd = iso.subarray(16 * SECTOR, 17 * SECTOR);
    assert.deepEqual([pvd[0], pvd.toString('ascii', 1, 6), pvd[6]], [1, 'CD001', 1]);
    assert.equal(pvd.toString('ascii', 40, 72).trimEnd(), 'VMOP_TOOLS');
    assert.equal(pvd.readUInt32LE(80), 21);
    assert.equal(pvd.readUInt32BE(84), 21);
    assert.equal(pvd.readUInt16LE(128), SECTOR);
    // The root directory record in the descriptor points at sector 20, a directory of one sector.
    assert.equal(pvd.readUInt32LE(156 + 2), 20);
    assert.equal(pvd.readUInt32LE(156 + 10), SECTOR);
    assert.equal(pvd[156 + 25], 0x02);
    const terminator = iso.subarray(17 * SECTOR, 18 * SECTOR);
    assert.deepEqual([terminator[0], terminator.toString('ascii', 1, 6)], [255, 'CD001']);
    const root = iso.subarray(20 * SECTOR, 21 * SECTOR);
    assert.deepEqual([root[0], root[33], root[34], root[34 + 33]], [34, 0, 34, 1]);
    assert.equal(iso.subarray(18 * SECTOR).readUInt32LE(2), 20, 'little-endian path table names the root');
    assert.equal(iso.subarray(19 * SECTOR).readUInt32BE(2), 20, 'big-endian path table names the root');
  });

  it('is the same every time, and refuses a label ISO 9660 does not allow', () => {
    assert.deepEqual(emptyISO('A'), emptyISO('A'));
    assert.throws(() => emptyISO('lower case'), /is not valid/);
  });
});
