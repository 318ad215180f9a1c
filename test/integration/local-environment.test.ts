// What the seeded local environment gives a user: vcsim's inventory and content library (checked with
// govc), a stable image name for the example VM, and RBAC for the non-privileged user.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { imageResourceName } from '../../src/api/v1alpha3/image-name.js';
import { repoRoot } from '../../src/devenv/toolchain.js';
import { CLUSTER_LIBRARY } from '../../src/devenv/seed.js';
import { govc, kubectl, testNamespace } from '../support/ground.js';

describe('the local environment', () => {
  it('vcsim has one datacenter with two clusters of two hosts, two datastores and port groups', async () => {
    const r = await govc(['find', '/', '-type', 'h']);
    assert.equal(r.code, 0, r.stderr);
    const hosts = r.stdout.trim().split('\n');
    assert.equal(hosts.length, 4);
    assert.deepEqual([...new Set(hosts.map((h) => h.split('/')[3]))].sort(), ['DC0_C0', 'DC0_C1']);
    const ds = await govc(['find', '/', '-type', 's']);
    assert.deepEqual(ds.stdout.trim().split('\n').sort(), ['/DC0/datastore/LocalDS_0', '/DC0/datastore/LocalDS_1']);
    const pg = await govc(['find', '/', '-type', 'n']);
    assert.match(pg.stdout, /DC0_DVPG0/);
  });

  it('the content library holds the shipped images and ISO, and the example VM names the Photon item', async () => {
    const items = await govc(['library.ls', `/${CLUSTER_LIBRARY}/*`]);
    // (Other tests add items of their own names for a while.)
    const shipped = items.stdout
      .trim()
      .split('\n')
      .filter((i) => ['photon-5', 'ubuntu-24.04', 'vmop-tools'].some((n) => i.endsWith(`/${n}`)));
    assert.deepEqual(shipped.sort(), [
      `/${CLUSTER_LIBRARY}/photon-5`,
      `/${CLUSTER_LIBRARY}/ubuntu-24.04`,
      `/${CLUSTER_LIBRARY}/vmop-tools`,
    ]);
    const iso = await govc(['library.info', '-json', `/${CLUSTER_LIBRARY}/vmop-tools`]);
    assert.equal((JSON.parse(iso.stdout) as [{ type: string }])[0].type, 'iso');
    const info = await govc(['library.info', '-json', `/${CLUSTER_LIBRARY}/photon-5`]);
    const [item] = JSON.parse(info.stdout) as [{ id: string }];
    const example = await readFile(path.join(repoRoot(), 'examples', 'vm.yaml'), 'utf8');
    assert.match(example, new RegExp(`imageName: ${imageResourceName(item.id)}\\n`));
  });

  it('the non-privileged user manages VMs in my-namespace only', async () => {
    const can = (verb: string, resource: string, ns: string) =>
      kubectl(['auth', 'can-i', verb, resource, '-n', ns], { context: 'user' }).then((r) => r.stdout.trim());
    assert.equal(await can('create', 'virtualmachines.vmoperator.vmware.com', 'my-namespace'), 'yes');
    assert.equal(await can('delete', 'virtualmachines.vmoperator.vmware.com', 'my-namespace'), 'yes');
    assert.equal(await can('create', 'virtualmachineclasses.vmoperator.vmware.com', 'my-namespace'), 'no');
    assert.equal(await can('list', 'clustervirtualmachineimages.vmoperator.vmware.com', 'my-namespace'), 'yes');
    const other = await testNamespace('rbac');
    assert.equal(await can('create', 'virtualmachines.vmoperator.vmware.com', other), 'no');
    const denied = await kubectl(['get', 'vm', '-n', other], { context: 'user' });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /forbidden: User "vmop-user" cannot list resource "virtualmachines"/);
  });

  it('the user context applies the example VM as written', async () => {
    const r = await kubectl(['apply', '--dry-run=server', '-f', path.join(repoRoot(), 'examples', 'vm.yaml')], {
      context: 'user',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /virtualmachine.vmoperator.vmware.com\/my-vm (created|configured|unchanged) \(server dry run\)/,
    );
  });
});
