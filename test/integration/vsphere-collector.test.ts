// The property collector at scale and over time: paging through 2,000+ objects, the change feed seeing an
// out-of-band power-off by govc, and the client surviving a vcsim restart in the middle of its session.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VSphereAPI } from '../../src/vsphere/api.js';
import { ChangeFeed } from '../../src/vsphere/change-feed.js';
import { PropertyCollector, type ObjectUpdate } from '../../src/vsphere/property-collector.js';
import type { MoRef } from '../../src/vsphere/vim25/codec.js';
import { govc } from '../support/ground.js';
import { startOwnVcsim } from '../support/vcsim.js';
import { vimClient, vimClientAt } from '../support/vsphere.js';

const connect = vimClientAt;

describe('property collector at scale and over time', () => {
  it(
    'pages through 2,000 VMs with RetrievePropertiesEx and ContinueRetrievePropertiesEx',
    { timeout: 300_000 },
    async () => {
      // vcsim needs about 45 s to build 2,000 VMs (not powered on, which would double that).
      const sim = await startOwnVcsim([
        '-cluster',
        '2',
        '-host',
        '1',
        '-standalone-host',
        '0',
        '-pool',
        '0',
        '-vm',
        '1000',
        '-ds',
        '1',
        '-autostart=false',
      ]);
      try {
        const calls: string[] = [];
        const c = await connect(sim.url, (m) => calls.push(m));
        try {
          const pc = new PropertyCollector(c);
          const vms = await pc.containerObjects(
            ['VirtualMachine'],
            ['name', 'config.instanceUuid', 'runtime.powerState'],
            { pageSize: 500 },
          );
          assert.equal(vms.length, 2000);
          assert.equal(new Set(vms.map((v) => v.obj.value)).size, 2000);
          assert.ok(
            vms.every((v) => typeof v.props.name === 'string' && v.props['runtime.powerState'] === 'poweredOff'),
          );
          assert.equal(calls.filter((m) => m === 'RetrievePropertiesEx').length, 1);
          assert.equal(calls.filter((m) => m === 'ContinueRetrievePropertiesEx').length, 3);
        } finally {
          await c.logout();
        }
      } finally {
        await sim.stop();
      }
    },
  );

  it('the change feed reports every VM first, then an out-of-band govc vm.power -off', async () => {
    const c = await vimClient();
    const api = new VSphereAPI(c);
    const inv = await api.inventory();
    const dc = inv.datacenters[0];
    const c0 = inv.clusters[0];
    assert.ok(dc && c0);
    const vm = await api.createVM(
      dc.props.vmFolder as MoRef,
      {
        _typeName: 'VirtualMachineConfigSpec',
        name: 'feed-vm',
        guestId: 'otherGuest',
        files: { _typeName: 'VirtualMachineFileInfo', vmPathName: '[LocalDS_0]' },
      },
      c0.props.resourcePool as MoRef,
    );
    await api.powerOn(vm);
    const batches: { updates: ObjectUpdate[]; initial: boolean }[] = [];
    const feed = new ChangeFeed(c, {
      types: ['VirtualMachine'],
      paths: ['runtime.powerState'],
      onUpdates: (updates, initial) => batches.push({ updates, initial }),
      waitSeconds: 5,
    });
    feed.start();
    try {
      const until = async (pred: () => boolean) => {
        for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 100));
        assert.ok(pred());
      };
      await until(() => batches.length > 0);
      assert.equal(batches[0]?.initial, true);
      assert.ok(batches[0]?.updates.some((u) => u.obj.value === vm.value && u.kind === 'enter'));
      const r = await govc(['vm.power', '-off', 'feed-vm']);
      assert.equal(r.code, 0, r.stderr);
      const seen = () =>
        batches
          .slice(1)
          .some((b) =>
            b.updates.some(
              (u) =>
                u.obj.value === vm.value &&
                u.kind === 'modify' &&
                u.changeSet?.some((ch) => ch.name === 'runtime.powerState' && ch.val === 'poweredOff'),
            ),
          );
      await until(seen);
    } finally {
      await feed.stop();
      await api.destroy(vm);
      await c.logout();
    }
  });

  it('logs in again after vcsim restarts in the middle of a session, and the next call works', async () => {
    const sim = await startOwnVcsim(['-cluster', '1', '-host', '1', '-standalone-host', '0', '-vm', '0']);
    try {
      const calls: string[] = [];
      const c = await connect(sim.url, (m) => calls.push(m));
      try {
        const pc = new PropertyCollector(c);
        assert.equal((await pc.containerObjects(['HostSystem'], ['name'])).length, 1);
        await sim.restart();
        assert.equal((await pc.containerObjects(['HostSystem'], ['name'])).length, 1);
        assert.equal(calls.filter((m) => m === 'Login').length, 2, calls.join(','));
      } finally {
        await c.logout();
      }
    } finally {
      await sim.stop();
    }
  });

  it('reads a container again with a new view when its view is gone (its session expired meanwhile)', async () => {
    // The first read of a view is answered as vCenter answers for a view of an expired session.
    const sim = await startOwnVcsim([
      ...['-cluster', '1', '-host', '1', '-standalone-host', '0', '-vm', '0'],
      ...['-fault', 'RetrievePropertiesEx:1:ManagedObjectNotFound:1'],
    ]);
    try {
      const calls: string[] = [];
      const c = await connect(sim.url, (m) => calls.push(m));
      try {
        const hosts = await new PropertyCollector(c).containerObjects(['HostSystem'], ['name']);
        assert.equal(hosts.length, 1);
        const reads = calls.filter((m) => m === 'CreateContainerView' || m === 'RetrievePropertiesEx');
        assert.deepEqual(reads, [
          'CreateContainerView',
          'RetrievePropertiesEx',
          'CreateContainerView',
          'RetrievePropertiesEx',
        ]);
      } finally {
        await c.logout();
      }
    } finally {
      await sim.stop();
    }
  });

  it('the change feed starts over with a full batch after vcsim restarts', async () => {
    const sim = await startOwnVcsim(['-cluster', '1', '-host', '1', '-standalone-host', '0', '-vm', '2']);
    const c = await connect(sim.url);
    const batches: { count: number; initial: boolean }[] = [];
    const errors: unknown[] = [];
    const feed = new ChangeFeed(c, {
      types: ['VirtualMachine'],
      paths: ['runtime.powerState'],
      onUpdates: (updates, initial) => batches.push({ count: updates.length, initial }),
      onError: (err) => errors.push(err),
      waitSeconds: 1,
      retryMs: 100,
    });
    const until = async (pred: () => boolean) => {
      for (let i = 0; i < 150 && !pred(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(pred());
    };
    try {
      feed.start();
      await until(() => batches.some((b) => b.initial && b.count === 2));
      await sim.restart();
      await until(() => batches.filter((b) => b.initial && b.count === 2).length === 2);
      assert.ok(errors.length > 0, 'the restart surfaced as an error before the feed rebuilt itself');
    } finally {
      await feed.stop();
      await c.logout();
      await sim.stop();
    }
  });
});
