// Where a new VM's disks go: of the zone cluster's datastores that satisfy the storage policy, the one with the
// most free space (as the README says), reading the free space once for a burst of creates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProviderConfig } from '../../src/providers/vsphere/config.js';
import { mostFreeSpace, Placement } from '../../src/providers/vsphere/placement.js';
import type { VSphereAPI } from '../../src/vsphere/api.js';
import type { PbmClient } from '../../src/vsphere/pbm.js';
import type { RetrievedObject } from '../../src/vsphere/property-collector.js';
import type { MoRef } from '../../src/vsphere/vim25/codec.js';

const ds = (value: string): MoRef => ({ type: 'Datastore', value });
const GiB = 2 ** 30;

describe('VM placement', () => {
  it('picks the datastore with the most free space, ties by ID', () => {
    const list = [ds('ds-1'), ds('ds-2'), ds('ds-3')];
    assert.equal(
      mostFreeSpace(
        list,
        new Map([
          ['ds-1', 5],
          ['ds-2', 9],
          ['ds-3', 7],
        ]),
      ).value,
      'ds-2',
    );
    assert.equal(
      mostFreeSpace(
        list,
        new Map([
          ['ds-1', 9],
          ['ds-2', 9],
        ]),
      ).value,
      'ds-1',
    );
    assert.equal(mostFreeSpace([ds('ds-2'), ds('ds-1')], new Map()).value, 'ds-1');
  });

  it('chooses among the datastores the policy allows, reading their free space once for a burst', async () => {
    const free: Record<string, number> = { 'ds-1': 100 * GiB, 'ds-2': 300 * GiB, 'ds-3': 900 * GiB };
    const reads: string[][] = [];
    const inventory = { datastores: Object.keys(free).map((id) => ({ obj: ds(id), props: {} })) };
    const api = {
      inventory: async () => inventory,
      pc: {
        properties: async (objs: MoRef[]) => {
          reads.push(objs.map((o) => o.value));
          return objs.map((o) => ({ obj: o, props: { 'summary.freeSpace': free[o.value] } }));
        },
      },
    } as unknown as VSphereAPI;
    // ds-3 has the most space but does not satisfy the policy.
    const pbm = {
      matchingDatastores: async (_policy: string, candidates: string[]) => candidates.filter((c) => c !== 'ds-3'),
    } as unknown as PbmClient;
    const placement = new Placement(api, pbm, {} as ProviderConfig);
    const cluster = {
      obj: { type: 'ClusterComputeResource', value: 'domain-c1' },
      props: { name: 'C1', datastore: Object.keys(free).map(ds) },
    } as unknown as RetrievedObject;
    for (let i = 0; i < 20; i++) assert.equal((await placement.vmDatastore(cluster, 'policy-1')).value, 'ds-2');
    assert.deepEqual(reads, [['ds-1', 'ds-2']], 'one read of the free space, of the allowed datastores only');
  });
});
