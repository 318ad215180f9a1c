// What a new VM cannot do without, refused through the real API server with the field named: its class, its
// image (spec.imageName or spec.image, of an image kind) and its storage class.
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, testNamespace } from '../support/ground.js';
import { API, assertAllowed, assertDenied } from '../support/vm.js';

const FULL = { className: 'my-vm-class', imageName: 'vmi-0a0044d7c690bcbea', storageClass: 'my-storage-class' };

function vmWith(ns: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: API, kind: 'VirtualMachine', metadata: { name, namespace: ns }, spec };
}

describe('required at create', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await testNamespace('required');
  });
  after(() => c.close());

  const denied: [string, Record<string, unknown>, string, RegExp][] = [
    ['no class', { ...FULL, className: undefined }, 'spec.className', /spec\.className: Required value/],
    ['an empty class', { ...FULL, className: '' }, 'spec.className', /spec\.className: Required value/],
    ['no image', { ...FULL, imageName: undefined }, 'spec.image', /spec\.image: Required value: name the VM’s image/],
    [
      'an image of another kind',
      { ...FULL, imageName: undefined, image: { kind: 'ConfigMap', name: 'x' } },
      'spec.image.kind',
      /Invalid value: "ConfigMap": supported: VirtualMachineImage; ClusterVirtualMachineImage/,
    ],
    [
      'no storage class',
      { ...FULL, storageClass: undefined },
      'spec.storageClass',
      /spec\.storageClass: Required value/,
    ],
  ];
  denied.forEach(([what, spec, field, message], i) => {
    it(`denies a VM with ${what}`, async () => {
      await assertDenied(c.create(vmWith(ns, `req-${i}`, spec)), field, message);
    });
  });

  it('allows a VM that names its image by spec.image alone', async () => {
    const image = { kind: 'ClusterVirtualMachineImage', name: 'vmi-0a0044d7c690bcbea' };
    await assertAllowed(c.create(vmWith(ns, 'by-ref', { ...FULL, imageName: undefined, image })));
  });
});
