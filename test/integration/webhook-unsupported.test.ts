// Fields the API has and vmop does not implement yet are refused through the real API server, with
// a message that names the field and says so — never stored and then ignored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, testNamespace } from '../support/ground.js';
import { API, assertAllowed, assertDenied, patchVM, vmObject } from '../support/vm.js';
import { getVM } from '../support/vms.js';

const UNSUPPORTED: [string, Record<string, unknown>, string][] = [
  ['encryption', { crypto: { encryptionClassName: 'my-class' } }, 'spec.crypto'],
  [
    'a volume provisioning mode',
    { advanced: { defaultVolumeProvisioningMode: 'Thin' } },
    'spec.advanced.defaultVolumeProvisioningMode',
  ],
  ['changed block tracking', { advanced: { changeBlockTracking: true } }, 'spec.advanced.changeBlockTracking'],
  ['a resource policy', { reserved: { resourcePolicyName: 'my-policy' } }, 'spec.reserved.resourcePolicyName'],
  [
    'VM affinity',
    { affinity: { vmAffinity: { requiredDuringSchedulingPreferredDuringExecution: [{ topologyKey: 'zone' }] } } },
    'spec.affinity',
  ],
  ['a VM group', { groupName: 'my-group' }, 'spec.groupName'],
  [
    'a MAC address',
    { network: { interfaces: [{ name: 'eth0', macAddr: '00:50:56:aa:bb:cc' }] } },
    'spec.network.interfaces[0].macAddr',
  ],
  [
    'an instance storage volume',
    {
      volumes: [
        {
          name: 'scratch',
          persistentVolumeClaim: {
            claimName: 'scratch',
            instanceVolumeClaim: { storageClass: 'my-storage-class', size: '10Gi' },
          },
        },
      ],
    },
    'spec.volumes[0].persistentVolumeClaim.instanceVolumeClaim',
  ],
];

// Only v1alpha6 has these (a v1alpha3 request loses them to the API server's pruning before admission).
if (API.endsWith('/v1alpha6')) {
  UNSUPPORTED.push(
    ['advanced CPU options', { cpuAdvanced: { hotAddEnabled: true } }, 'spec.cpuAdvanced'],
    ['a disk controller', { hardware: { scsiControllers: [{ busNumber: 1 }] } }, 'spec.hardware.scsiControllers'],
    ['a NIC type', { network: { interfaces: [{ name: 'eth0', type: 'E1000' }] } }, 'spec.network.interfaces[0].type'],
    [
      'a volume disk mode',
      { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'd' }, diskMode: 'Persistent' }] },
      'spec.volumes[0].diskMode',
    ],
    [
      'a volume that may not be removed while the VM runs',
      { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'd' }, removable: false }] },
      'spec.volumes[0].removable',
    ],
  );
}

describe('fields vmop does not implement', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await testNamespace('unsupported');
  });
  after(() => c.close());

  UNSUPPORTED.forEach(([what, spec, field], i) => {
    it(`refuses ${what} at create, naming ${field}`, async () => {
      await assertDenied(c.create(vmObject(ns, `unsup-${i}`, spec)), field, /vmop does not support .* yet/);
    });
  });

  it('accepts a volume as every version writes it (v1alpha5 and later default it to removable)', async () => {
    const volume = { name: 'd', persistentVolumeClaim: { claimName: 'd' } };
    await assertAllowed(c.create(vmObject(ns, 'vol-default', { volumes: [volume] }), { dryRun: true }));
    if (API.endsWith('/v1alpha6')) {
      const written = await c.create(vmObject(ns, 'vol-removable', { volumes: [{ ...volume, removable: true }] }), {
        dryRun: true,
      });
      assert.equal((written.spec as { volumes: { removable?: boolean }[] }).volumes[0]!.removable, true);
    }
  });

  it('refuses one added by an update, and leaves the VM as it was', async () => {
    await assertAllowed(c.create(vmObject(ns, 'plain')));
    await assertDenied(
      patchVM(c, ns, 'plain', { spec: { advanced: { changeBlockTracking: true } } }),
      'spec.advanced.changeBlockTracking',
      /vmop does not support changed block tracking yet/,
    );
    const stored = await getVM(c, ns, 'plain');
    assert.equal((stored.spec as Record<string, unknown>).advanced, undefined);
  });
});
