// status.network.config through the test run's manager: the spec's example (host name from the VM's name,
// nameservers and search domains from ConfigMap vmop-network-config, the interface's address and gateway from
// the spec), the spec's own DNS winning over the ConfigMap, and the default network's DHCP modes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { client } from '../support/ground.js';
import { eventually, getVM, vm, vmName, vmNamespace } from '../support/vms.js';
import { rawPath } from '../support/vm.js';

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
    // The default network turns to DHCP4 and DHCP6: the VM's intended config follows (no addresses).
    await c.request('PATCH', rawPath(CM_PATH), {
      contentType: 'application/merge-patch+json',
      body: { data: { dhcp4: 'true', dhcp6: 'true' } },
    });
    const dhcp = (await configOf(name, (cfg) => JSON.stringify(cfg).includes('"dhcp"'))) as { interfaces: unknown };
    assert.deepEqual(dhcp.interfaces, [
      { name: 'eth0', ip: { dhcp: { ip4: { enabled: true }, ip6: { enabled: true } } } },
    ]);
  });
});
