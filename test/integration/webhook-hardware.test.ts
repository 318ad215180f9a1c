// spec.advanced.bootDiskCapacity and spec.minHardwareVersion through the real API server: sizes in whole MiB
// that never shrink, and hardware versions vSphere knows, never lowered, raised only while powered off.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, testNamespace } from '../support/ground.js';
import { assertAllowed, assertDenied, patchVM, vmObject } from '../support/vm.js';
import { getVM } from '../support/vms.js';

describe('admission: boot disk capacity and minimum hardware version', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await testNamespace('hardware');
  });
  after(() => c.close());

  it('takes a boot disk capacity in whole MiB, refuses a part of one, and never lets it shrink', async () => {
    await assertDenied(
      c.create(vmObject(ns, 'odd-disk', { advanced: { bootDiskCapacity: '1000001k' } })),
      'spec.advanced.bootDiskCapacity',
      /value must be a multiple of MB/,
    );
    await assertAllowed(c.create(vmObject(ns, 'disk', { advanced: { bootDiskCapacity: '20Gi' } })));
    await assertAllowed(patchVM(c, ns, 'disk', { spec: { advanced: { bootDiskCapacity: '24Gi' } } }));
    await assertDenied(
      patchVM(c, ns, 'disk', { spec: { advanced: { bootDiskCapacity: '16Gi' } } }),
      'spec.advanced.bootDiskCapacity',
      /may not be decreased \(it was 24Gi\): vSphere cannot shrink a disk/,
    );
    const stored = (await getVM(c, ns, 'disk')).spec as { advanced?: { bootDiskCapacity?: string } };
    assert.equal(stored.advanced?.bootDiskCapacity, '24Gi');
  });

  it('takes a known hardware version, never lowers it, and raises it only for a VM that is powered off', async () => {
    await assertDenied(
      c.create(vmObject(ns, 'hw-future', { minHardwareVersion: 99 })),
      'spec.minHardwareVersion',
      /should be less than or equal to 22/,
    );
    await assertAllowed(c.create(vmObject(ns, 'hw', { minHardwareVersion: 19 })));
    await assertDenied(
      patchVM(c, ns, 'hw', { spec: { minHardwareVersion: 17 } }),
      'spec.minHardwareVersion',
      /cannot downgrade hardware version/,
    );
    await assertDenied(
      patchVM(c, ns, 'hw', { spec: { minHardwareVersion: 21 } }),
      'spec.minHardwareVersion',
      /cannot upgrade hardware version unless powered off/,
    );
    // Together with a power-off (or once off), the upgrade is taken.
    await assertAllowed(patchVM(c, ns, 'hw', { spec: { minHardwareVersion: 21, powerState: 'PoweredOff' } }));
    assert.equal((await getVM(c, ns, 'hw')).spec.minHardwareVersion, 21);
  });
});
