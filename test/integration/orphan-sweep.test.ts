// The orphan collector reaches every VM however many there are: each sweep is bounded (lookups of owner keys
// and objects), and the next one goes on where the last stopped, so an orphan behind many VMs whose objects
// exist is still destroyed. The VMs live in the in-memory provider; their objects in the real API server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OrphanCollector } from '../../src/controllers/virtualmachine/orphans.js';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { createLogger } from '../../src/runtime/logger.js';
import { InMemoryVMs } from '../support/fake-provider.js';
import { client, testNamespace } from '../support/ground.js';
import { vmObject } from '../support/vm.js';

describe('orphan collector', () => {
  let c: KubeClient;
  before(() => {
    c = client();
  });
  after(() => c.close());

  it('destroys an orphan behind more VMs than one sweep looks at', async () => {
    const ns = await testNamespace('orphans');
    const provider = new InMemoryVMs();
    // Five VMs whose objects exist, then one whose object was never there.
    const names = ['keep-0', 'keep-1', 'keep-2', 'keep-3', 'keep-4', 'gone'];
    for (const name of names) {
      const obj = name === 'gone' ? undefined : await c.create(vmObject(ns, name));
      await provider.createVM({
        namespace: ns,
        name,
        uid: obj ? String(obj.metadata.uid) : 'no-such-uid',
        instanceUUID: `uuid-${name}`,
        biosUUID: `bios-${name}`,
        imageItemID: 'item',
        interfaces: [],
      });
    }
    const collector = new OrphanCollector({
      provider,
      client: c,
      logger: createLogger({ level: 'silent' }),
      graceMs: 0,
      knownInstanceUUIDs: () => new Set(),
      maxLookupsPerSweep: 3,
    });
    let sweeps = 0;
    while (provider.vms.has('uuid-gone') && sweeps < 10) {
      await collector.sweep();
      sweeps++;
    }
    assert.ok(!provider.vms.has('uuid-gone'), `the orphan is still there after ${sweeps} sweeps`);
    assert.ok(sweeps > 1, 'the orphan was beyond the first sweep');
    assert.deepEqual(
      [...provider.vms.keys()].sort(),
      names.filter((n) => n !== 'gone').map((n) => `uuid-${n}`),
      'VMs whose objects exist are kept',
    );
  });
});
