// vApp (OVF) properties through the test run's manager and vcsim: values and Secret keys set on the properties
// the image defines (read back with govc), every pair of a Secret with rawProperties, and a property the
// image does not define held back with a condition that lists the ones it does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, govcCollect } from '../support/ground.js';
import { condition, eventually, getVM, vm, vmName, vmNamespace, waitForPower } from '../support/vms.js';

async function vappProperties(ns: string, name: string): Promise<Record<string, string>> {
  const props = await govcCollect(`/DC0/vm/${ns}/${name}`, ['config.vAppConfig']);
  const vapp = props['config.vAppConfig'] as { property?: { id: string; value?: string }[] } | undefined;
  return Object.fromEntries((vapp?.property ?? []).map((p) => [p.id, p.value ?? '']));
}

describe('VM controller: vApp properties', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await vmNamespace('vapp');
    await c.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'props', namespace: ns },
      stringData: { 'user-data': 'from-a-secret' },
    });
  });
  after(() => c.close());

  it('sets the image’s properties from values and Secrets before the power-on', async () => {
    const name = vmName('vapp');
    // The Photon image defines one property, user-data (see its ClusterVirtualMachineImage's ovfProperties).
    await c.create(
      vm(ns, name, {
        bootstrap: {
          vAppConfig: { properties: [{ key: 'user-data', value: { from: { name: 'props', key: 'user-data' } } }] },
        },
      }),
    );
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    assert.equal((await vappProperties(ns, name))['user-data'], 'from-a-secret');

    const raw = vmName('raw');
    await c.create(vm(ns, raw, { bootstrap: { vAppConfig: { rawProperties: 'props' } } }));
    await waitForPower(c, ns, raw, 'PoweredOn', 60_000);
    assert.equal((await vappProperties(ns, raw))['user-data'], 'from-a-secret');

    const plain = vmName('plain');
    await c.create(
      vm(ns, plain, { bootstrap: { vAppConfig: { properties: [{ key: 'user-data', value: { value: 'inline' } }] } } }),
    );
    await waitForPower(c, ns, plain, 'PoweredOn', 60_000);
    assert.equal((await vappProperties(ns, plain))['user-data'], 'inline');
  });

  it('holds a VM whose property the image does not define, naming the ones it does', async () => {
    const name = vmName('unknown');
    await c.create(
      vm(ns, name, { bootstrap: { vAppConfig: { properties: [{ key: 'nope', value: { value: 'x' } }] } } }),
    );
    const held = await eventually('UnknownVAppProperty', async () => {
      const o = await getVM(c, ns, name);
      return condition(o, 'VirtualMachineBootstrapReady')?.reason === 'UnknownVAppProperty' ? o : undefined;
    });
    assert.match(
      condition(held, 'VirtualMachineBootstrapReady')!.message,
      /"nope" is not a vApp property of this VM \(its image defines: [^)]*user-data/,
    );
    assert.equal(held.status?.powerState, 'PoweredOff');
  });
});
