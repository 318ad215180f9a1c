// Creating First Class Disks by name (the local volume provisioner, one per claim) looks for an earlier disk of
// that name on its datastore. Each disk is read once: 40 creates cost 40 reads, not one read of every disk
// of the datastore per create (780 for 40).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FirstClassDisks } from '../../src/providers/vsphere/disks.js';
import type { VSphereAPI } from '../../src/vsphere/api.js';
import type { MoRef } from '../../src/vsphere/vim25/codec.js';

function fakeDatastore() {
  const disks = new Map<string, string>();
  const calls = { list: 0, retrieve: 0, create: 0 };
  const obj = (id: string) => ({
    _typeName: 'VStorageObject',
    config: { id: { id }, name: disks.get(id)!, capacityInMB: 1024 },
  });
  const api = {
    listDisks: async () => (calls.list++, [...disks.keys()]),
    retrieveDisk: async (id: string) => (calls.retrieve++, obj(id)),
    createDisk: async (name: string) => {
      calls.create++;
      const id = `disk-${disks.size + 1}`;
      disks.set(id, name);
      return obj(id);
    },
  } as unknown as VSphereAPI;
  return { api, calls, disks };
}

describe('First Class Disk creation cost', () => {
  it('reads each disk once over 40 creates, and still finds an earlier disk of the same name', async () => {
    const { api, calls } = fakeDatastore();
    const ds: MoRef = { type: 'Datastore', value: 'datastore-1' };
    const cluster = { props: { datastore: [ds] } } as unknown as Parameters<FirstClassDisks['create']>[2];
    const fcd = new FirstClassDisks(api, {} as never);
    for (let i = 0; i < 40; i++) await fcd.create(`pvc-${i}`, 1 << 30, cluster);
    assert.equal(calls.create, 40);
    assert.ok(calls.retrieve <= 40, `${calls.retrieve} disk reads for 40 creates`);
    // A repeated create (after a crash, say) finds the disk instead of making a second one.
    const again = await fcd.create('pvc-7', 1 << 30, cluster);
    assert.equal(again.name, 'pvc-7');
    assert.equal(calls.create, 40);
    // So does a fresh process that has read nothing yet.
    const fresh = new FirstClassDisks(api, {} as never);
    assert.equal((await fresh.create('pvc-39', 1 << 30, cluster)).id, 'disk-40');
    assert.equal(calls.create, 40);
  });
});
