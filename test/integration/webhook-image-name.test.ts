// spec.imageName resolved at create by the mutating webhook through the real API server, as VM Operator does:
// an image object's name or a display name unique in the VM's scope becomes spec.image (kind and name), and
// the IMAGE column shows it; a display name that names no image, or several, is refused with VM Operator's
// message.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, kubectl, testNamespace } from '../support/ground.js';
import { assertDenied, vmObject } from '../support/vm.js';
import { eventually, getVM, PHOTON_IMAGE, readyImage } from '../support/vms.js';

type ImageSpec = { imageName?: string; image?: { kind?: string; name?: string } };

describe('admission: spec.imageName resolved into spec.image', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await testNamespace('imgname');
    // Two namespaced images: one with a display name of its own, two sharing another.
    await readyImage(c, ns, 'vmi-0000000000000000a', 'item-a', 'my-photon');
    await readyImage(c, ns, 'vmi-0000000000000000b', 'item-b', 'twin');
    await readyImage(c, ns, 'vmi-0000000000000000c', 'item-c', 'twin');
  });
  after(() => c.close());

  /**
   * Creates VMs named `prefix-N` until one comes back resolved to `kind` (the webhook's image caches follow the
   * images by watch, so the first create may come before they show the test's images); returns its spec.
   */
  const createResolved = (prefix: string, imageName: string, kind: string) => {
    let attempt = 0;
    return eventually(`${imageName} resolved to a ${kind}`, async () => {
      const name = `${prefix}-${attempt++}`;
      await c.create(vmObject(ns, name, { imageName }));
      const spec = (await getVM(c, ns, name)).spec as ImageSpec;
      return spec.image?.kind === kind ? { name, spec } : undefined;
    });
  };

  it("resolves a display name unique in the namespace to that image, and a cluster image's object name to its kind", async () => {
    const byDisplay = await createResolved('by-display', 'my-photon', 'VirtualMachineImage');
    assert.deepEqual(byDisplay.spec.image, { kind: 'VirtualMachineImage', name: 'vmi-0000000000000000a' });
    assert.equal(byDisplay.spec.imageName, 'vmi-0000000000000000a');
    const byName = await createResolved('by-name', PHOTON_IMAGE, 'ClusterVirtualMachineImage');
    assert.deepEqual(byName.spec.image, { kind: 'ClusterVirtualMachineImage', name: PHOTON_IMAGE });
    // kubectl's IMAGE column (wide) reads spec.image.name.
    const r = await kubectl(['get', 'vm', '-n', ns, byDisplay.name, '-o', 'wide', '--no-headers']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\bvmi-0000000000000000a\b/);
  });

  it('refuses a display name that names several images, or none', async () => {
    // (Once the webhook's caches show both twins: until then a create may resolve to the one they show.)
    let attempt = 0;
    await eventually('both twins seen', async () => {
      const err = await c.create(vmObject(ns, `twin-${attempt++}`, { imageName: 'twin' })).then(
        () => undefined,
        (e: unknown) => e,
      );
      return err
        ? assertDenied(Promise.reject(err), 'spec.imageName', /multiple VM images exist for "twin" in namespace scope/)
        : undefined;
    });
    await assertDenied(
      c.create(vmObject(ns, 'nothing', { imageName: 'no such image' })),
      'spec.imageName',
      /no VM image exists for "no such image" in namespace or cluster scope/,
    );
  });

  it('leaves an object name that names no image yet to the controller (the VM waits for its image)', async () => {
    await c.create(vmObject(ns, 'later', { imageName: 'vmi-00000000000000fff' }));
    const spec = (await getVM(c, ns, 'later')).spec as ImageSpec;
    assert.equal(spec.image, undefined);
    assert.equal(spec.imageName, 'vmi-00000000000000fff');
  });
});
