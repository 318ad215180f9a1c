// The v1alpha3 CRDs as the real API server serves them: short names, printer columns, explain texts,
// defaults, and the status subresource.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, kubectl, testNamespace } from '../support/ground.js';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { rawPath } from '../support/vm.js';

const API = 'vmoperator.vmware.com/v1alpha3';

function vm(name: string, namespace: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: API,
    kind: 'VirtualMachine',
    metadata: { name, namespace },
    spec: { className: 'my-vm-class', imageName: 'vmi-0a0044d7c690bcbea', storageClass: 'my-storage-class', ...spec },
  };
}

describe('CRDs on the real API server', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await testNamespace('crd');
    // (With spec.image as the webhook fills it for an image that exists: the IMAGE column reads it.)
    await c.create(
      vm('my-vm', ns, {
        powerState: 'PoweredOn',
        image: { kind: 'ClusterVirtualMachineImage', name: 'vmi-0a0044d7c690bcbea' },
      }),
    );
    await c.create({
      apiVersion: API,
      kind: 'VirtualMachineClass',
      metadata: { name: 'small', namespace: ns },
      spec: { hardware: { cpus: 2, memory: '4Gi' } },
    });
    await c.create({ apiVersion: API, kind: 'VirtualMachineImage', metadata: { name: 'vmi-abc', namespace: ns } });
    await c.create({ apiVersion: API, kind: 'ClusterVirtualMachineImage', metadata: { name: `cvmi-${ns}` } });
  });
  after(() => c.close());

  const shortNames: [string, string, boolean][] = [
    ['vm', 'my-vm', true],
    ['vmclass', 'small', true],
    ['vmi', 'vmi-abc', true],
    ['vmimage', 'vmi-abc', true],
    ['cvmi', 'cvmi-', false],
    ['cvmimage', 'cvmi-', false],
    ['clustervmi', 'cvmi-', false],
    ['clustervmimage', 'cvmi-', false],
  ];
  for (const [short, expected, namespaced] of shortNames) {
    it(`kubectl get ${short} lists ${namespaced ? 'the namespace' : 'cluster'} objects by short name`, async () => {
      const r = await kubectl(['get', short, ...(namespaced ? ['-n', ns] : []), '-o', 'name']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`/${expected}`));
    });
  }

  it('kubectl get vm shows NAME, POWER-STATE, AGE and -o wide adds CLASS, IMAGE, PRIMARY-IP4', async () => {
    const plain = await kubectl(['get', 'vm', '-n', ns]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(plain.stdout.split('\n')[0]?.split(/\s+/).filter(Boolean), ['NAME', 'POWER-STATE', 'AGE']);
    const wide = await kubectl(['get', 'vm', '-n', ns, '-o', 'wide']);
    assert.deepEqual(wide.stdout.split('\n')[0]?.split(/\s+/).filter(Boolean), [
      'NAME',
      'POWER-STATE',
      'CLASS',
      'IMAGE',
      'PRIMARY-IP4',
      'AGE',
    ]);
    assert.match(wide.stdout, /my-vm\s+my-vm-class\s+vmi-0a0044d7c690bcbea/);
    // Every kind vmop serves is in category vmop (VM Operator's kinds in vmoperator, too).
    const all = await kubectl(['get', 'vmop,vmoperator', '-n', ns, '-o', 'name']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^virtualmachine\.vmoperator\.vmware\.com\/my-vm$/m);
  });

  it('the Table API gives vmclass CPU, MEMORY and (wide) CAPABILITIES columns, as VM Operator’s CRD', async () => {
    const table = await c.request<{ columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }>(
      'GET',
      rawPath(`/apis/vmoperator.vmware.com/v1alpha3/namespaces/${ns}/virtualmachineclasses`),
      { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
    );
    assert.deepEqual(
      table.columnDefinitions.map((d) => d.name),
      ['Name', 'CPU', 'Memory', 'Capabilities'],
    );
    assert.deepEqual(table.rows[0]?.cells.slice(0, 3), ['small', '2', '4Gi']);
  });

  it('images show display name, type, image version, OS name and version, hardware version, capabilities', async () => {
    await c.request('PATCH', rawPath(`/apis/${API}/namespaces/${ns}/virtualmachineimages/vmi-abc/status`), {
      contentType: 'application/merge-patch+json',
      body: {
        status: {
          name: 'photon-5',
          type: 'OVF',
          productInfo: { version: '5.0' },
          osInfo: { type: 'vmwarePhoton64Guest', version: '5' },
          hardwareVersion: 19,
          capabilities: ['cloud-init'],
        },
      },
    });
    const r = await kubectl(['get', 'vmimage', '-n', ns]);
    assert.equal(r.code, 0, r.stderr);
    const [header, row] = r.stdout.split('\n');
    assert.match(
      header ?? '',
      /^NAME\s+DISPLAY NAME\s+TYPE\s+IMAGE VERSION\s+OS NAME\s+OS VERSION\s+HARDWARE VERSION\s+CAPABILITIES$/,
    );
    assert.match(row ?? '', /^vmi-abc\s+photon-5\s+OVF\s+5\.0\s+vmwarePhoton64Guest\s+5\s+19\s+\["cloud-init"\]$/);
  });

  it('defaults the power op modes to TrySoft and keeps cloudConfig {}', async () => {
    const created = await c.create(vm('defaults', ns, { bootstrap: { cloudInit: { cloudConfig: {} } } }));
    const spec = created.spec as Record<string, unknown>;
    assert.equal(spec.powerOffMode, 'TrySoft');
    assert.equal(spec.suspendMode, 'TrySoft');
    assert.equal(spec.restartMode, 'TrySoft');
    // useGlobalNameserversAsDefault/useGlobalSearchDomainsAsDefault stay unset, as VM Operator's CRD leaves
    // them (unset reads as true).
    assert.deepEqual(spec.bootstrap, { cloudInit: { cloudConfig: {}, instanceID: spec.biosUUID } });
  });

  it('keeps a class configSpec verbatim, including nested _typeName objects', async () => {
    const configSpec = {
      _typeName: 'VirtualMachineConfigSpec',
      deviceChange: [
        { _typeName: 'VirtualDeviceConfigSpec', device: { _typeName: 'VirtualE1000', key: -100 }, operation: 'add' },
      ],
    };
    const created = await c.create({
      apiVersion: API,
      kind: 'VirtualMachineClass',
      metadata: { name: 'nics', namespace: ns },
      spec: { configSpec, hardware: { cpus: 1, memory: '1Gi' } },
    });
    assert.deepEqual((created.spec as { configSpec: unknown }).configSpec, configSpec);
  });

  it('writes status only through the status subresource', async () => {
    const path = `/apis/${API}/namespaces/${ns}/virtualmachines/my-vm`;
    const viaMain = await c.request<{ status?: { powerState?: string } }>('PATCH', rawPath(path), {
      contentType: 'application/merge-patch+json',
      body: { status: { powerState: 'PoweredOff' } },
    });
    // (The VM controller may have written conditions by now; the patched field must not be there.)
    assert.equal(viaMain.status?.powerState, undefined);
    const viaStatus = await c.request<{ status?: { powerState?: string } }>('PATCH', rawPath(`${path}/status`), {
      contentType: 'application/merge-patch+json',
      body: { status: { powerState: 'PoweredOff' } },
    });
    assert.equal(viaStatus.status?.powerState, 'PoweredOff');
  });

  const explained: [string, RegExp][] = [
    ['vm.spec.network.interfaces', /name\s+<string> -required-\s+Unique name of the interface/],
    ['vm.spec.powerState', /Desired power state: PoweredOn, PoweredOff or Suspended/],
    ['vm.spec.instanceUUID', /Only\s+privileged accounts may set/],
    ['vmclass.spec.configSpec', /VirtualMachineConfigSpec as JSON/],
    ['cvmi.status.osInfo', /Guest operating system of the image/],
  ];
  for (const [field, text] of explained) {
    it(`kubectl explain ${field} shows its description`, async () => {
      const r = await kubectl(['explain', field]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, text);
    });
  }
});
