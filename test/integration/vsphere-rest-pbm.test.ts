// vAPI REST and PBM against vcsim: sessions, content libraries and items (the ones vmop dev seeds, and new
// ones made here), reading an item's OVF, deploying it as a VM, and storage policies matched to datastores.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_LIBRARY } from '../../src/devenv/seed.js';
import { repoRoot } from '../../src/devenv/toolchain.js';
import { VSphereAPI } from '../../src/vsphere/api.js';
import type { VimClient } from '../../src/vsphere/client.js';
import { PbmClient } from '../../src/vsphere/pbm.js';
import { VapiClient, VapiError } from '../../src/vsphere/rest.js';
import type { MoRef } from '../../src/vsphere/vim25/codec.js';
import { ground, govc } from '../support/ground.js';
import { vcsimBase, vcsimCA, vimClient } from '../support/vsphere.js';

describe('vAPI REST and PBM against vcsim', () => {
  let rest: VapiClient;
  let vim: VimClient;
  before(async () => {
    const g = ground();
    rest = VapiClient.create({
      url: vcsimBase(),
      tls: { ca: vcsimCA() },
      credentials: { username: g.vcsimUser, password: g.vcsimPassword },
    });
    vim = await vimClient();
  });
  after(async () => {
    await rest.logout();
    await vim.logout();
  });

  it('lists the seeded cluster library, its two OVF items and its ISO item', async () => {
    const id = await rest.findLibrary(CLUSTER_LIBRARY);
    assert.ok(id);
    assert.ok((await rest.listLibraries()).includes(id));
    assert.equal((await rest.getLibrary(id)).name, CLUSTER_LIBRARY);
    // (Other tests add items of their own names for a while.)
    const items = (await Promise.all((await rest.listItems(id)).map((i) => rest.getItem(i)))).filter((i) =>
      ['photon-5', 'ubuntu-24.04', 'vmop-tools'].includes(i.name),
    );
    assert.deepEqual(items.map((i) => [i.name, i.type]).sort(), [
      ['photon-5', 'ovf'],
      ['ubuntu-24.04', 'ovf'],
      ['vmop-tools', 'iso'],
    ]);
    assert.ok(items.every((i) => i.library_id === id && i.content_version));
  });

  it('creates a library, imports an OVF into it, reads the descriptor back, and deletes both', async () => {
    const inv = await new VSphereAPI(vim).inventory();
    const ds = inv.datastores.find((d) => d.props.name === 'LocalDS_1');
    assert.ok(ds);
    const lib = await rest.createLocalLibrary(`rest-test-${Date.now()}`, ds.obj.value);
    const ovf = await readFile(path.join(repoRoot(), 'config', 'images', 'ubuntu-24.04.ovf'), 'utf8');
    const item = await rest.importOVF(lib, 'ubuntu', ovf);
    assert.equal((await rest.getItem(item)).name, 'ubuntu');
    const files = await rest.listFiles(item);
    assert.deepEqual(
      files.map((f) => f.name),
      ['ubuntu.ovf'],
    );
    const back = await rest.readItemFile(item, 'ubuntu.ovf');
    assert.equal(back, ovf);
    const cli = await govc(['library.ls', `/${(await rest.getLibrary(lib)).name}/*`]);
    assert.match(cli.stdout, /\/ubuntu\n/);
    await rest.deleteItem(item);
    await rest.deleteLibrary(lib);
    const gone = await rest.getLibrary(lib).catch((e: unknown) => e);
    assert.ok(gone instanceof VapiError && gone.notFound, String(gone));
  });

  it('deploys an OVF library item as a VM that the SOAP API then sees', async () => {
    const api = new VSphereAPI(vim);
    const inv = await api.inventory();
    const pool = inv.clusters.find((c) => c.props.name === 'DC0_C1')?.props.resourcePool as MoRef;
    const ds = inv.datastores[0];
    assert.ok(pool && ds);
    const lib = await rest.findLibrary(CLUSTER_LIBRARY);
    assert.ok(lib);
    const items = await Promise.all((await rest.listItems(lib)).map((i) => rest.getItem(i)));
    const photon = items.find((i) => i.name === 'photon-5');
    assert.ok(photon);
    const vmID = await rest.deployOVF(
      photon.id,
      { resourcePoolId: pool.value },
      { name: 'deployed-photon', datastoreId: ds.obj.value },
    );
    const vm: MoRef = { _typeName: 'ManagedObjectReference', type: 'VirtualMachine', value: vmID };
    const props = await api.pc.one(vm, ['name', 'config.guestId', 'config.hardware.numCPU', 'runtime.powerState']);
    assert.equal(props.name, 'deployed-photon');
    assert.equal(props['config.guestId'], 'vmwarePhoton64Guest');
    assert.equal(props['config.hardware.numCPU'], 2);
    await api.destroy(vm);
  });

  it('re-creates its REST session after it is deleted', async () => {
    const before = await rest.listLibraries();
    await rest.transport.request('DELETE', '/rest/com/vmware/cis/session', {
      headers: { 'vmware-api-session-id': (rest as unknown as { session: string }).session },
    });
    assert.deepEqual(await rest.listLibraries(), before);
  });

  it('lists storage policies and the datastores that satisfy one', async () => {
    const pbm = new PbmClient(vim);
    const profiles = await pbm.profiles();
    const vsan = profiles.find((p) => p.name === 'vSAN Default Storage Policy');
    assert.ok(vsan, profiles.map((p) => p.name).join(', '));
    assert.equal(vsan.id, 'aa6d5a82-1c88-45da-85d3-3d74b91a5bad');
    const api = new VSphereAPI(vim);
    const all = (await api.inventory()).datastores.map((d) => d.obj.value);
    const matching = await pbm.matchingDatastores(vsan.id, all);
    // vcsim reports every datastore as compatible with every policy.
    assert.deepEqual([...matching].sort(), [...all].sort());
  });
});
