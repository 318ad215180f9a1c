// The image controller in the test run's manager mirrors vcsim's content library items: the seeded cluster
// library as ClusterVirtualMachineImages with their OVF details, a library bound to a namespace as
// VirtualMachineImages there (a lost status is restored), and an item deleted in vSphere disappears from
// Kubernetes. Along the way the image controller uses every permission the generated RBAC grants it.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { imageResourceName } from '../../src/api/v1alpha3/image-name.js';
import { CLUSTER_LIBRARY, OPERATOR_NAMESPACE } from '../../src/devenv/seed.js';
import { repoRoot } from '../../src/devenv/toolchain.js';
import { VSphereAPI } from '../../src/vsphere/api.js';
import { VapiClient } from '../../src/vsphere/rest.js';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { CLUSTER_RULES, grantedPermissions, NAMESPACE_RULES } from '../../src/install/rbac.js';
import { apiUsage } from '../support/metrics.js';
import { client, ground, kubectl, testNamespace } from '../support/ground.js';
import { vcsimBase, vcsimCA, vimClient } from '../support/vsphere.js';
import { eventually } from '../support/vms.js';
import { rawPath } from '../support/vm.js';

const RULES = [...CLUSTER_RULES, ...NAMESPACE_RULES];

describe('image controller', () => {
  let c: KubeClient;
  let rest: VapiClient;
  before(() => {
    c = client();
    const g = ground();
    rest = VapiClient.create({
      url: vcsimBase(),
      tls: { ca: vcsimCA() },
      credentials: { username: g.vcsimUser, password: g.vcsimPassword },
    });
  });
  after(async () => {
    c.close();
    await rest.logout();
  });

  it('mirrors the cluster library as ClusterVirtualMachineImages with the OVF details', async () => {
    const row = await eventually('photon-5 listed', async () => {
      const r = await kubectl(['get', 'cvmi', 'vmi-3044b59f15d847781', '--no-headers']);
      return r.code === 0 && /photon-5/.test(r.stdout) ? r.stdout : undefined;
    });
    assert.match(row, /^vmi-3044b59f15d847781\s+photon-5\s+OVF\s+5\.0\s+vmwarePhoton64Guest\s+5\.0\s+19\s/);
    const obj = await c.get<{
      apiVersion: string;
      kind: string;
      metadata: { labels?: Record<string, string> };
      status: Record<string, unknown> & { conditions: { type: string; status: string }[] };
    }>('vmoperator.vmware.com/v1alpha3', 'ClusterVirtualMachineImage', 'vmi-3044b59f15d847781');
    assert.equal(obj.status.firmware, 'efi');
    assert.deepEqual(obj.status.capabilities, ['cloud-init']);
    assert.deepEqual(obj.status.productInfo, {
      product: 'Photon OS',
      vendor: 'vmop',
      version: '5.0',
      fullVersion: '5.0.0',
    });
    assert.deepEqual(obj.status.ovfProperties, [{ key: 'user-data', type: 'string' }]);
    assert.ok(obj.status.conditions.some((x) => x.type === 'Ready' && x.status === 'True'));
    assert.equal(obj.metadata.labels?.['os.image.vmoperator.vmware.com/type'], 'vmwarePhoton64Guest');
    assert.equal(obj.metadata.labels?.['capability.image.vmoperator.vmware.com/cloud-init'], '');
    const ubuntu = await kubectl(['get', 'clustervmimage', '--no-headers']);
    assert.match(ubuntu.stdout, /ubuntu-24\.04\s+OVF\s+24\.04\s+ubuntu64Guest\s+24\.04\s+19/);
  });

  /** A status lost (or edited by hand) is read from the item again; a deleted item takes its image along. */
  async function loseStatusThenItem(imagePath: string, item: string): Promise<void> {
    // The controller creates the object, then writes its status: wait for both.
    const mirrored = await eventually('image with its status', async () => {
      const o = await c.request<KubeObject & { status?: { providerItemID?: string } }>('GET', rawPath(imagePath));
      return o.status?.providerItemID ? o : undefined;
    });
    assert.equal(mirrored.status?.providerItemID, item);
    await c.request('PUT', rawPath(`${imagePath}/status`), { body: { ...mirrored, status: {} } });
    await eventually('status restored', async () => {
      const o = await c.request<{ status?: { providerItemID?: string } }>('GET', rawPath(imagePath));
      return o.status?.providerItemID === item ? true : undefined;
    });
    await rest.deleteItem(item);
    const exists = () =>
      c.request('GET', rawPath(imagePath)).then(
        () => true,
        () => false,
      );
    await eventually('image removed', async () => ((await exists()) ? undefined : true));
  }

  it('restores the status of a cluster image, and drops it with its item', async () => {
    const lib = await rest.findLibrary(CLUSTER_LIBRARY);
    assert.ok(lib);
    const ovf = await readFile(path.join(repoRoot(), 'config', 'images', 'ubuntu-24.04.ovf'), 'utf8');
    const item = await rest.importOVF(lib, `extra-${Date.now()}`, ovf);
    const imagePath = `/apis/vmoperator.vmware.com/v1alpha3/clustervirtualmachineimages/${imageResourceName(item)}`;
    try {
      await loseStatusThenItem(imagePath, item);
    } finally {
      // Gone again even when the test fails: other tests list the shared cluster library.
      await rest.deleteItem(item).catch(() => undefined);
    }
  });

  it('mirrors a library bound to a namespace as VirtualMachineImages, and drops an item deleted in vSphere', async () => {
    const ns = await testNamespace('images');
    const vim = await vimClient();
    const ds = (await new VSphereAPI(vim).inventory()).datastores[0];
    await vim.logout();
    assert.ok(ds);
    const libName = `lib-${ns}`;
    const lib = await rest.createLocalLibrary(libName, ds.obj.value);
    const ovf = await readFile(path.join(repoRoot(), 'config', 'images', 'ubuntu-24.04.ovf'), 'utf8');
    const item = await rest.importOVF(lib, 'team-ubuntu', ovf);
    const name = imageResourceName(item);
    await c.request('PATCH', rawPath(`/api/v1/namespaces/${OPERATOR_NAMESPACE}/configmaps/vmop-content-libraries`), {
      contentType: 'application/merge-patch+json',
      body: { data: { [`namespace.${ns}`]: libName } },
    });
    try {
      const row = await eventually('namespaced image listed', async () => {
        const r = await kubectl(['get', 'vmi', '-n', ns, name, '--no-headers']);
        return r.code === 0 && /team-ubuntu/.test(r.stdout) ? r.stdout : undefined;
      });
      assert.match(row, /team-ubuntu\s+OVF\s+24\.04\s+ubuntu64Guest/);
      const vmimage = await kubectl(['get', 'vmimage', '-n', ns, '-o', 'name']);
      assert.equal(vmimage.stdout.trim(), `virtualmachineimage.vmoperator.vmware.com/${name}`);
      await loseStatusThenItem(
        `/apis/vmoperator.vmware.com/v1alpha3/namespaces/${ns}/virtualmachineimages/${name}`,
        item,
      );
      assert.notEqual((await kubectl(['get', 'vmi', '-n', ns, name])).code, 0);
    } finally {
      await c.request('PATCH', rawPath(`/api/v1/namespaces/${OPERATOR_NAMESPACE}/configmaps/vmop-content-libraries`), {
        contentType: 'application/merge-patch+json',
        body: { data: { [`namespace.${ns}`]: null } },
      });
      await rest.deleteLibrary(lib).catch(() => undefined);
    }
  });

  it('used every permission the generated roles grant the image controller alone (after the tests above)', async () => {
    // The test manager's requests are counted by RBAC verb and resource. Permissions the image controller
    // shares with the VM controller (leases among them) are checked by the RBAC test.
    const { used } = await apiUsage(ground().managerHealthPort);
    assert.deepEqual(
      grantedPermissions(RULES, 'virtualmachineimage').filter(
        (p) => !used.has(p) && !grantedPermissions(RULES, 'virtualmachine').includes(p),
      ),
      [],
      'every permission granted to the image controller is used',
    );
  });
});
