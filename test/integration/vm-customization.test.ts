// LinuxPrep and Sysprep through the test run's manager and vcsim: the customization spec the controller
// hands to CustomizeVM_Task before the first power-on is what vcsim applies at that power-on — host name, IP
// address and DNS search domains, read back with govc — the guest's customization status becomes the
// GuestCustomization condition, and a later power cycle does not customize again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, govcCollect, kubectl } from '../support/ground.js';
import { patchVM } from '../support/vm.js';
import { condition, eventsFor, eventually, getVM, vm, vmName, vmNamespace, waitForPower } from '../support/vms.js';

function guest(ns: string, name: string): Promise<Record<string, unknown>> {
  return govcCollect(`/DC0/vm/${ns}/${name}`, [
    'guest.hostName',
    'guest.ipAddress',
    'guest.customizationInfo',
    'guest.net',
  ]);
}

describe('VM controller: LinuxPrep and Sysprep', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await vmNamespace('custom');
  });
  after(() => c.close());

  const network = (hostName: string) => ({
    hostName,
    domainName: 'corp.local',
    nameservers: ['10.0.0.2'],
    searchDomains: ['corp.local'],
    interfaces: [{ name: 'eth0', addresses: ['192.168.0.3/24'], gateway4: '192.168.0.1' }],
  });

  it('customizes a Linux guest once: host name, address and search domains as vcsim applies them', async () => {
    const name = vmName('lnx');
    await c.create(
      vm(ns, name, {
        network: network('lnx-1'),
        bootstrap: { linuxPrep: { timeZone: 'Europe/Sofia', hardwareClockIsUTC: true } },
      }),
    );
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const g = await eventually('customized guest', async () => {
      const props = await guest(ns, name);
      return (props['guest.customizationInfo'] as { customizationStatus?: string } | undefined)?.customizationStatus ===
        'TOOLSDEPLOYPKG_SUCCEEDED'
        ? props
        : undefined;
    });
    assert.equal(g['guest.hostName'], 'lnx-1');
    assert.equal(g['guest.ipAddress'], '192.168.0.3');
    const net = g['guest.net'] as { dnsConfig?: { hostName?: string; searchDomain?: string[] } }[];
    assert.deepEqual(net[0]?.dnsConfig?.searchDomain, ['corp.local']);
    const obj = await eventually('GuestCustomization=True', async () => {
      const o = await getVM(c, ns, name);
      return condition(o, 'GuestCustomization')?.status === 'True' ? o : undefined;
    });
    assert.equal(condition(obj, 'VirtualMachineBootstrapReady')?.status, 'True');
    // What VM Tools report comes back as observed state: the primary address, also in `kubectl get vm -o wide`.
    await eventually('status.network.primaryIP4', async () => {
      const o = await getVM(c, ns, name);
      return (o.status as { network?: { primaryIP4?: string } }).network?.primaryIP4 === '192.168.0.3'
        ? true
        : undefined;
    });
    const wide = await kubectl(['get', 'vm', '-n', ns, name, '-o', 'wide', '--no-headers']);
    assert.match(wide.stdout, /192\.168\.0\.3/);
    // And the adapters as VM Tools report them, named after the spec's interfaces.
    const observed = await eventually('status.network.interfaces', async () => {
      const o = await getVM(c, ns, name);
      const list = (
        o.status as {
          network?: { interfaces?: { name?: string; ip?: { addresses?: { address?: string }[]; macAddr?: string } }[] };
        }
      ).network?.interfaces;
      return list?.[0]?.ip?.addresses?.length ? list : undefined;
    });
    assert.equal(observed[0]!.name, 'eth0');
    assert.ok(
      observed[0]!.ip!.addresses!.some((a) => a.address?.startsWith('192.168.0.3')),
      JSON.stringify(observed),
    );
    assert.match(observed[0]!.ip!.macAddr ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const marked = (obj.metadata as { annotations?: Record<string, string> }).annotations?.[
      'vmop.dev/guest-customized'
    ];
    assert.ok(marked);

    // Off and on again: no second customization (the mark stays, no second hand-over).
    await patchVM(c, ns, name, { spec: { powerState: 'PoweredOff', powerOffMode: 'Hard' } });
    await waitForPower(c, ns, name, 'PoweredOff');
    await patchVM(c, ns, name, { spec: { powerState: 'PoweredOn' } });
    await waitForPower(c, ns, name, 'PoweredOn');
    const again = await getVM(c, ns, name);
    assert.equal(
      (again.metadata as { annotations?: Record<string, string> }).annotations?.['vmop.dev/guest-customized'],
      marked,
    );
    const handovers = (await eventsFor(c, ns, name)).filter((e) => e.reason === 'GuestCustomization');
    assert.equal(handovers.length, 1);
    assert.equal(handovers[0]!.count ?? 1, 1);
  });

  it('customizes a Windows guest with Sysprep: computer name and address', async () => {
    const name = vmName('win');
    await c.create(
      vm(ns, name, {
        network: network('win-1'),
        bootstrap: { sysprep: { sysprep: { userData: { fullName: 'Ops', orgName: 'Corp' } } } },
      }),
    );
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const g = await eventually('customized guest', async () => {
      const props = await guest(ns, name);
      return props['guest.hostName'] === 'win-1' ? props : undefined;
    });
    assert.equal(g['guest.ipAddress'], '192.168.0.3');
  });

  it('takes raw sysprep XML from a Secret', async () => {
    await c.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'unattend', namespace: ns },
      stringData: { 'unattend.xml': '<?xml version="1.0"?><unattend xmlns="urn:schemas-microsoft-com:unattend"/>' },
    });
    const name = vmName('raw');
    await c.create(
      vm(ns, name, {
        network: { interfaces: [{ name: 'eth0', addresses: ['192.168.0.9/24'], gateway4: '192.168.0.1' }] },
        bootstrap: { sysprep: { rawSysprep: { name: 'unattend', key: 'unattend.xml' } } },
      }),
    );
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const g = await eventually('customized guest', async () => {
      const props = await guest(ns, name);
      return props['guest.ipAddress'] === '192.168.0.9' ? props : undefined;
    });
    assert.equal(
      (g['guest.customizationInfo'] as { customizationStatus?: string }).customizationStatus,
      'TOOLSDEPLOYPKG_SUCCEEDED',
    );
  });
});
