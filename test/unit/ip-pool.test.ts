// IP pool entries expanded: single addresses, ranges, CIDR blocks without network and broadcast, the gateway
// left out, duplicates once, and clear errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressObjectName, expandPool, MAX_POOL_SIZE } from '../../src/controllers/ipam/addresses.js';

describe('IP pools', () => {
  it('expands addresses, ranges and CIDR blocks in order, without the gateway or duplicates', () => {
    assert.deepEqual(expandPool(['10.0.0.5', '10.0.0.1-10.0.0.3', '10.0.0.2'], '10.0.0.2'), {
      addresses: ['10.0.0.5', '10.0.0.1', '10.0.0.3'],
    });
    assert.deepEqual(expandPool(['192.168.1.0/30']), { addresses: ['192.168.1.1', '192.168.1.2'] });
    assert.deepEqual(expandPool(['192.168.1.7/31']), { addresses: ['192.168.1.6', '192.168.1.7'] });
    assert.deepEqual(expandPool(['10.0.0.255-10.0.1.1']), { addresses: ['10.0.0.255', '10.0.1.0', '10.0.1.1'] });
  });

  it('refuses what it cannot read, backwards ranges and oversized pools', () => {
    assert.deepEqual(expandPool(['10.0.0.x']), {
      error: '"10.0.0.x" is not an IP4 address, range "first-last" or CIDR block',
    });
    assert.deepEqual(expandPool(['10.0.0.9-10.0.0.1']), {
      error: '"10.0.0.9-10.0.0.1": the range ends before it starts',
    });
    assert.deepEqual(expandPool(['10.0.0.0/8']), { error: `the pool has more than ${MAX_POOL_SIZE} addresses` });
  });

  it('names each address object after its pool and address', () => {
    assert.equal(addressObjectName('blue', '10.0.0.5'), 'blue-10-0-0-5');
  });
});
