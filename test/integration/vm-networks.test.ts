// Networks as objects (vmop.dev/v1alpha1 Network): each interface's NIC goes on its Network's port group — the
// named one, else the namespace's default — read back from vSphere; the intended config takes each Network's
// DHCP modes; a VM whose Network is missing (or of an unsupported kind) waits with a condition and is created
// once the Network exists.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { client, govc } from '../support/ground.js';
import { condition, eventually, getVM, vm, vmName, vmNamespace, vmNICs, waitForPower } from '../support/vms.js';

function network(ns: string, name: string, spec: Record<string, unknown>, isDefault = false): KubeObject {
  return {
    apiVersion: 'vmop.dev/v1alpha1',
    kind: 'Network',
    metadata: { name, namespace: ns, ...(isDefault ? { labels: { 'vmop.dev/default-network': 'true' } } : {}) },
    spec,
  };
}

/** The port group keys of the VM's NICs, in device order. */
async function nicPortGroups(ns: string, name: string): Promise<string[]> {
  return (await vmNICs(ns, name)).map((d) => d.backing?.port?.portgroupKey ?? d.backing?.deviceName ?? '?');
}

/** The managed object ID of a vSphere network (the port group key of a distributed port group). */
async function networkID(name: string): Promise<string> {
  const r = await govc(['ls', '-i', `/DC0/network/${name}`]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split(':').pop()!;
}

describe('VM controller: Networks', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await vmNamespace('nets');
    await c.create(network(ns, 'green', { portGroup: 'DC0_DVPG0', dhcp4: true }, true));
    await c.create(network(ns, 'blue', { portGroup: 'DC0_DVPG1' }));
  });
  after(() => c.close());

  it('puts each NIC on its Network: the named one, else the namespace default; DHCP from the Network', async () => {
    const name = vmName('nets');
    await c.create(
      vm(ns, name, {
        network: {
          interfaces: [
            { name: 'eth0' },
            { name: 'eth1', network: { name: 'blue' }, addresses: ['192.168.5.4/24'], gateway4: '192.168.5.1' },
          ],
        },
      }),
    );
    const obj = await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    assert.deepEqual(await nicPortGroups(ns, name), [await networkID('DC0_DVPG0'), await networkID('DC0_DVPG1')]);
    assert.equal(condition(obj, 'VirtualMachineNetworkReady')?.status, 'True');
    const config = (obj.status as { network?: { config?: { interfaces?: unknown[] } } }).network?.config;
    assert.deepEqual(config?.interfaces, [
      { name: 'eth0', ip: { dhcp: { ip4: { enabled: true } } } },
      { name: 'eth1', ip: { addresses: ['192.168.5.4/24'], gateway4: '192.168.5.1' } },
    ]);
  });

  it('waits for a missing Network and creates the VM once it exists; refuses a kind it does not serve', async () => {
    const name = vmName('later');
    await c.create(vm(ns, name, { network: { interfaces: [{ name: 'eth0', network: { name: 'later' } }] } }));
    const waiting = await eventually('NetworkReady=False', async () => {
      const o = await getVM(c, ns, name);
      return condition(o, 'VirtualMachineNetworkReady')?.status === 'False' ? o : undefined;
    });
    assert.equal(condition(waiting, 'VirtualMachineNetworkReady')?.reason, 'NotFound');
    assert.match(
      condition(waiting, 'VirtualMachineNetworkReady')!.message,
      new RegExp(`spec.network.interfaces\\[0\\].network: Network "later" not found in namespace ${ns}`),
    );
    assert.equal(waiting.status?.uniqueID, undefined, 'no vSphere VM yet');
    await c.create(network(ns, 'later', { portGroup: 'DC0_DVPG1' }));
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    assert.deepEqual(await nicPortGroups(ns, name), [await networkID('DC0_DVPG1')]);

    const other = vmName('nsx');
    await c.create(
      vm(ns, other, {
        network: {
          interfaces: [
            { name: 'eth0', network: { apiVersion: 'crd.nsx.vmware.com/v1alpha1', kind: 'SubnetSet', name: 'x' } },
          ],
        },
      }),
    );
    const refused = await eventually('UnsupportedNetwork', async () => {
      const o = await getVM(c, ns, other);
      return condition(o, 'VirtualMachineNetworkReady')?.reason === 'UnsupportedNetwork' ? o : undefined;
    });
    assert.match(
      condition(refused, 'VirtualMachineNetworkReady')!.message,
      /SubnetSet of crd.nsx.vmware.com\/v1alpha1 is not supported/,
    );
  });
});
