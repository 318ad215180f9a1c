// The conversion webhook's cost on a read: the same VM read as v1alpha6 (the storage version: no conversion)
// and as v1alpha3 (the API server asks the webhook), alternately, on a private API server with the webhook
// server on loopback. Target: under 5 ms added at p99.
import { CONVERTED_CRDS, customResourceDefinitions } from '../src/crd/definitions.js';
import { apiPath } from '../src/runtime/api-path.js';
import type { KubeObject } from '../src/runtime/kube-client.js';
import { startPrivateAPIServer } from '../src/devenv/private-apiserver.js';
import { summarize, table } from './stats.js';

const GROUP = 'vmoperator.vmware.com';
const path6 = (v: string, name?: string) =>
  apiPath({ apiVersion: `${GROUP}/${v}`, resource: 'virtualmachines', namespace: 'default', name });

/** A VM as a running one looks: spec with bootstrap and network, status with conditions and guest network. */
function realisticVM(name: string): KubeObject {
  return {
    apiVersion: `${GROUP}/v1alpha6`,
    kind: 'VirtualMachine',
    metadata: { name, labels: { app: 'web', 'topology.kubernetes.io/zone': 'zone-a' } },
    spec: {
      className: 'best-effort-small',
      imageName: 'vmi-3044b59f15d847781',
      image: { kind: 'ClusterVirtualMachineImage', name: 'vmi-3044b59f15d847781' },
      storageClass: 'gold',
      powerState: 'PoweredOn',
      bootstrap: {
        cloudInit: { cloudConfig: { users: [{ name: 'ops', ssh_authorized_keys: ['ssh-ed25519 AAAA'] }] } },
      },
      network: {
        interfaces: [
          { name: 'eth0', network: { name: 'primary' } },
          { name: 'eth1', dhcp4: true },
        ],
      },
      hardware: { cdrom: [{ name: 'tools', image: { kind: 'VirtualMachineImage', name: 'vmop-tools' } }] },
    },
  };
}

const STATUS = {
  powerState: 'PoweredOn',
  nodeName: 'esx-01.example.com',
  zone: 'zone-a',
  uniqueID: 'vm-1042',
  instanceUUID: '5f3c9c39-27f4-4d55-9d2c-000000000001',
  biosUUID: '4213a1ad-6c1d-8a6e-2f7b-000000000001',
  hardwareVersion: 21,
  conditions: ['Ready', 'VirtualMachineCreated', 'VirtualMachineBootstrapReady', 'VirtualMachineNetworkReady'].map(
    (type) => ({ type, status: 'True', reason: 'True', message: '', lastTransitionTime: '2026-12-01T10:00:00Z' }),
  ),
  network: {
    primaryIP4: '10.0.0.12',
    interfaces: [0, 1].map((i) => ({
      name: `eth${i}`,
      ip: { macAddr: `00:50:56:00:00:0${i}`, addresses: [{ address: `10.0.${i}.12/24`, state: 'preferred' }] },
    })),
    config: { dns: { hostName: 'web-1', nameservers: ['10.0.0.2'] } },
  },
};

export async function benchConversion(): Promise<void> {
  const N = Number(process.env.VMOP_BENCH_CONVERSION_READS ?? 2000);
  console.log('starting a private etcd and kube-apiserver …');
  const api = await startPrivateAPIServer('vmop-bench-conversion');
  const client = api.client;
  try {
    for (const crd of customResourceDefinitions(api.conversion)) {
      if (CONVERTED_CRDS.includes(crd.metadata.name)) await client.apply(crd as unknown as KubeObject);
    }
    for (;;) {
      const ok = await client.request('GET', path6('v1alpha3')).then(
        () => true,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await client.request('POST', path6('v1alpha6'), { body: realisticVM('web-1') });
    await client.request(
      'PATCH',
      apiPath({
        apiVersion: `${GROUP}/v1alpha6`,
        resource: 'virtualmachines',
        namespace: 'default',
        name: 'web-1',
        subresource: 'status',
      }),
      {
        contentType: 'application/merge-patch+json',
        body: { status: STATUS },
      },
    );
    const read = async (version: string) => {
      const t = process.hrtime.bigint();
      await client.request('GET', path6(version, 'web-1'));
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    for (let i = 0; i < 200; i++) await read(i % 2 ? 'v1alpha3' : 'v1alpha6'); // warm-up
    const direct: number[] = [];
    const converted: number[] = [];
    console.log(`reading one VM ${N} times in each version …`);
    for (let i = 0; i < N; i++) {
      direct.push(await read('v1alpha6'));
      converted.push(await read('v1alpha3'));
    }
    const d = summarize(direct);
    const c = summarize(converted);
    console.log(`\nconversion webhook on a GET (${N} reads each, ms)`);
    console.log(
      table(
        ['read', 'p50', 'p90', 'p99'],
        [
          ['v1alpha6 (stored: no conversion) — floor', d.p50, d.p90, d.p99],
          ['v1alpha3 (through the webhook)', c.p50, c.p90, c.p99],
          ['added by conversion', c.p50 - d.p50, c.p90 - d.p90, c.p99 - d.p99],
        ],
      ),
    );
    console.log(
      `ratio p99 converted/floor: ${(c.p99 / d.p99).toFixed(2)}; added p99 ${(c.p99 - d.p99).toFixed(2)} ms (target < 5 ms)`,
    );
  } finally {
    await api.stop();
  }
}
