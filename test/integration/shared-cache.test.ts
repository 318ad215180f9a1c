// One informer per kind per process: a manager running the VM controller, the volume provisioner and the
// IPAM provider together lists and watches each kind once (PVCs, PVs, StorageClasses, ResourceQuotas,
// IPAddressClaims and IPAddresses used to be listed and watched two or three times), and its requests do not
// queue behind the long-lived watch sockets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IPAMProvider } from '../../src/controllers/ipam/controller.js';
import { VirtualMachineController } from '../../src/controllers/virtualmachine/controller.js';
import { VolumeProvisioner } from '../../src/controllers/volumeprovisioner/controller.js';
import type { DiskProvider } from '../../src/providers/interface.js';
import { EventRecorder } from '../../src/runtime/events.js';
import { createLogger } from '../../src/runtime/logger.js';
import { Manager } from '../../src/runtime/manager.js';
import { InMemoryVMs } from '../support/fake-provider.js';
import { ground } from '../support/ground.js';
import { OWN_MANAGER_LABEL } from '../support/manager.js';
import { eventually, vmNamespace } from '../support/vms.js';

describe('shared informer cache', () => {
  let manager: Manager;
  let running: Promise<void>;
  before(async () => {
    const ns = await vmNamespace('cache');
    const logger = createLogger({ level: 'silent' });
    manager = new Manager({
      kubeconfig: ground().kubeconfig,
      context: 'admin',
      healthHost: '127.0.0.1',
      healthPort: 0,
      logger,
    });
    const client = manager.client;
    const events = new EventRecorder(client, 'vmop-cache-test');
    // Nothing here is provisioned or created: the selector matches no VM, and no claim asks for a disk.
    const disks: DiskProvider = {
      createDisk: () => Promise.reject(new Error('not in this test')),
      deleteDisk: async () => undefined,
      disk: async () => undefined,
    };
    manager.addLeaderElected(
      new VirtualMachineController({
        client,
        provider: new InMemoryVMs(),
        events,
        logger,
        cache: manager.cache,
        resyncMs: 600_000,
        vmSelector: `${OWN_MANAGER_LABEL}=${ns}`,
        orphanGraceMs: 0,
      }),
    );
    manager.addLeaderElected(new VolumeProvisioner({ client, disks, events, logger, cache: manager.cache }));
    manager.addLeaderElected(new IPAMProvider({ client, logger, cache: manager.cache }));
    running = manager.run();
  });
  after(async () => {
    manager.stop();
    await running;
  });

  it('lists and watches each kind once, whichever controllers use it', async () => {
    const stats = await eventually(
      'every informer listed and watching',
      async () => {
        const s = manager.cache.stats();
        return s.every((x) => x.lists >= 1 && x.watches >= 1) ? s : undefined;
      },
      60_000,
    );
    const kinds = stats.map((s) => s.kind);
    for (const shared of [
      'PersistentVolumeClaim',
      'PersistentVolume',
      'StorageClass',
      'ResourceQuota',
      'IPAddressClaim',
      'IPAddress',
    ]) {
      assert.equal(kinds.filter((k) => k === shared).length, 1, `${shared}: one informer`);
    }
    assert.deepEqual(
      stats.filter((s) => s.lists !== 1),
      [],
      'each informer listed once',
    );
  });
});
