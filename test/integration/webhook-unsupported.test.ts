// Fields the v1alpha3 schema has and vmop does not implement yet are refused through the real API server, with
// a message that names the field and says so — never stored and then ignored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, testNamespace } from '../support/ground.js';
import { assertAllowed, assertDenied, patchVM, vmObject } from '../support/vm.js';
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
