// status.network.config through the test run's manager: the spec's example (host name from the VM's name,
// nameservers and search domains from ConfigMap vmop-network-config, the interface's address and gateway from
// the spec), the spec's own DNS winning over the ConfigMap, and the default network's DHCP modes (DHCP4 when
// nothing says otherwise).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { client } from '../support/ground.js';
import { eventually, getVM, guestinfo, vm, vmName, vmNamespace, vmNICs, waitForPower } from '../support/vms.js';
import { patchVM, rawPath } from '../support/vm.js';

const CM_PATH = '/api/v1/namespaces/vmop-system/configmaps/vmop-network-config';

describe('VM controller: intended network config', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await vmNamespace('netcfg');
    await c.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'vmop-network-config', namespace: 'vmop-system' },
      data: { nameservers: '8.8.8.8 8.8.4.4', searchDomains: 'hello.world fu.bar example.com' },
    } as KubeObject);
  });
  after(async () => {
    await c.request('DELETE', rawPath(CM_PATH)).catch(() => undefined);
    c.close();
  });

  const configOf = async (name: string, want: (config: unknown) => boolean) =>
    eventually(`status.network.config of ${name}`, async () => {
      const config = ((await getVM(c, ns, name)).status as { network?: { config?: unknown } } | undefined)?.network
        ?.config;
      return config && want(config) ? config : undefined;
    });

  it('fills the spec example from the VM, its spec and the ConfigMap', async () => {
    const name = vmName('my-vm');
    await c.create(
      vm(ns, name, {
        network: { interfaces: [{ name: 'eth0', addresses: ['192.168.0.3/24'], gateway4: '192.168.0.1' }] },
      }),
    );
    const config = await configOf(name, () => true);
    assert.deepEqual(config, {
      dns: {
        hostName: name,
        nameservers: ['8.8.8.8', '8.8.4.4'],
        searchDomains: ['hello.world', 'fu.bar', 'example.com'],
      },
      interfaces: [{ name: 'eth0', ip: { addresses: ['192.168.0.3/24'], gateway4: '192.168.0.1' } }],
    });
  });

  it("uses the spec's DNS over the ConfigMap, and follows the default network's DHCP modes", async () => {
    const name = vmName('dns');
    await c.create(
      vm(ns, name, {
        // Global nameservers and search domains are LinuxPrep's and Sysprep's fields (the webhook says so).
        bootstrap: { linuxPrep: {} },
        network: {
          hostName: 'web-1',
          domainName: 'corp.local',
          nameservers: ['10.0.0.2'],
          searchDomains: ['corp.local'],
        },
      }),
    );
    const config = (await configOf(name, () => true)) as { dns: unknown };
    assert.deepEqual(config.dns, {
      hostName: 'web-1',
      domainName: 'corp.local',
      nameservers: ['10.0.0.2'],
      searchDomains: ['corp.local'],
    });
    // With no addresses and a ConfigMap that states no DHCP mode, the default network gives DHCP4 (as a port
    // group without IPAM does); stated DHCP4 and DHCP6 are followed (no addresses).
    const before = (await configOf(name, () => true)) as { interfaces: unknown };
    assert.deepEqual(before.interfaces, [{ name: 'eth0', ip: { dhcp: { ip4: { enabled: true } } } }]);
    await c.request('PATCH', rawPath(CM_PATH), {
      contentType: 'application/merge-patch+json',
      body: { data: { dhcp4: 'true', dhcp6: 'true' } },
    });
    const dhcp = (await configOf(name, (cfg) => JSON.stringify(cfg).includes('"ip6"'))) as { interfaces: unknown };
    assert.deepEqual(dhcp.interfaces, [
      { name: 'eth0', ip: { dhcp: { ip4: { enabled: true }, ip6: { enabled: true } } } },
    ]);
  });

  it('keeps the networking a VM was deployed with when spec.network.disabled changes later (no effect, as the spec says)', async () => {
    const on = vmName('net-on');
    const off = vmName('net-off');
    await c.create(vm(ns, on, { bootstrap: { cloudInit: { cloudConfig: {} } } }));
    await c.create(vm(ns, off, { network: { disabled: true } }));
    for (const n of [on, off]) await waitForPower(c, ns, n, 'PoweredOn', 60_000);
    const before = await Promise.all([on, off].map(async (n) => configOf(n, () => true)));
    assert.deepEqual((before[0] as { interfaces?: unknown[] }).interfaces?.length, 1);
    assert.equal((before[1] as { interfaces?: unknown[] }).interfaces, undefined);
    const nics = await Promise.all([on, off].map((n) => vmNICs(ns, n)));
    assert.deepEqual(
      nics.map((l) => l.length),
      [1, 0],
    );

    // Flipped both ways: each VM keeps what it was deployed with, in its intended config, its NICs, and the
    // guest data a power-on writes.
    await patchVM(c, ns, on, { spec: { network: { disabled: true } } });
    await patchVM(c, ns, off, { spec: { network: { disabled: false } } });
    for (const n of [on, off]) {
      const generation = (await getVM(c, ns, n)).metadata.generation;
      await eventually(`${n} reconciled at generation ${generation}`, async () => {
        const o = await getVM(c, ns, n);
        const ready = o.status?.conditions?.find((x) => x.type === 'Ready') as
          { observedGeneration?: number } | undefined;
        return ready?.observedGeneration === generation ? o : undefined;
      });
    }
    const after = await Promise.all([on, off].map(async (n) => configOf(n, () => true)));
    assert.deepEqual(after, before);
    assert.deepEqual(
      (await Promise.all([on, off].map((n) => vmNICs(ns, n)))).map((l) => l.length),
      [1, 0],
    );
    await patchVM(c, ns, on, { spec: { powerState: 'PoweredOff' } });
    await waitForPower(c, ns, on, 'PoweredOff', 60_000);
    await patchVM(c, ns, on, { spec: { powerState: 'PoweredOn' } });
    await waitForPower(c, ns, on, 'PoweredOn', 60_000);
    const { metadata } = await guestinfo(ns, on);
    assert.equal(Object.keys((metadata as { network: { ethernets: object } }).network.ethernets).length, 1);
  });
});
