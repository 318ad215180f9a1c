// The local images' boot disk: a stream-optimized VMDK whose header, descriptor and footer say what the OVF
// states (capacity, file name), laid out as VMware's sparse format reads it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyStreamOptimizedVMDK } from '../../src/devenv/vmdk.js';

const GiB = 2 ** 30;

describe('empty stream-optimized VMDK', () => {
  it('has the sparse header, the descriptor naming the extent, the grain directory, footer and end marker', () => {
    const vmdk = emptyStreamOptimizedVMDK('photon-5-disk1.vmdk', 16 * GiB);
    // 16 GiB of 64 KiB grains in tables of 512: 512 tables → a 2 KiB directory (4 sectors); 10 sectors in all.
    assert.equal(vmdk.length, 10 * 512);
    assert.equal(vmdk.toString('latin1', 0, 4), 'KDMV');
    assert.equal(vmdk.readUInt32LE(4), 3);
    assert.equal(vmdk.readUInt32LE(8) & (1 << 16), 1 << 16, 'compressed grains (stream-optimized)');
    assert.equal(vmdk.readBigUInt64LE(12), BigInt((16 * GiB) / 512), 'capacity in sectors');
    assert.equal(vmdk.readBigUInt64LE(56), 0xffffffffffffffffn, 'the header defers the directory to the footer');
    const descriptor = vmdk.toString('utf8', 512, 1024).replace(/\0+$/, '');
    assert.match(descriptor, /createType="streamOptimized"/);
    assert.match(descriptor, new RegExp(`RW ${(16 * GiB) / 512} SPARSE "photon-5-disk1.vmdk"`));
    // Grain directory marker (type 2) at sector 2, footer marker (type 3) and footer, then 512 zero bytes.
    assert.equal(vmdk.readUInt32LE(2 * 512 + 12), 2);
    assert.equal(vmdk.readBigUInt64LE(2 * 512), 4n);
    assert.equal(vmdk.readUInt32LE(7 * 512 + 12), 3);
    assert.equal(vmdk.toString('latin1', 8 * 512, 8 * 512 + 4), 'KDMV');
    assert.equal(vmdk.readBigUInt64LE(8 * 512 + 56), 3n, 'the footer points at the directory');
    assert.ok(vmdk.subarray(9 * 512).every((b) => b === 0));
  });

  it('is the same every time (the OVF states its size) and refuses a capacity that is not whole grains', () => {
    assert.deepEqual(emptyStreamOptimizedVMDK('a.vmdk', 10 * GiB), emptyStreamOptimizedVMDK('a.vmdk', 10 * GiB));
    assert.equal(emptyStreamOptimizedVMDK('a.vmdk', 10 * GiB).length, 9 * 512);
    assert.throws(() => emptyStreamOptimizedVMDK('a.vmdk', 1000), /not a positive multiple of 65536/);
  });
});
