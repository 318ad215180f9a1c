// Deleting a VM while vCenter cannot be reached: a manager of the test's own reads its provider
// configuration from a namespace of the test's own; pointing that at a closed port makes vCenter unreachable
// for it alone. The VirtualMachine stays (finalizer), says why in a condition and Events, and goes — with the
// vSphere VM destroyed — once vCenter is back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePorts } from '../../src/devenv/processes.js';
import { OPERATOR_NAMESPACE } from '../../src/devenv/seed.js';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { client } from '../support/ground.js';
import { ownOperatorNamespace, OWN_MANAGER_LABEL, startOwnManager, type OwnManager } from '../support/manager.js';
import { vmPath, rawPath } from '../support/vm.js';
import {
  condition,
  eventsFor,
  eventually,
  getVM,
  vm,
  vmName,
  vmNamespace,
  vspherePowerState,
  waitForGone,
  waitForPower,
} from '../support/vms.js';

type ConfigMap = KubeObject & { data: Record<string, string> };

describe('VM controller: vCenter unreachable', () => {
  let c: KubeClient;
  let mgr: OwnManager | undefined;
  before(() => {
    c = client();
  });
  after(async () => {
    await mgr?.kill();
    c.close();
  });

  it('keeps a deleted VM until vCenter is reachable again, then destroys it', { timeout: 300_000 }, async () => {
    const ns = await vmNamespace('vm-down');
    // The provider configuration and credentials, copied from the shared operator namespace.
    const opNS = await ownOperatorNamespace('vm-down-op');
    const shared = await c.get<ConfigMap>('v1', 'ConfigMap', 'vmop-provider-config', OPERATOR_NAMESPACE);
    mgr = await startOwnManager({ id: ns, namespace: opNS });

    const name = vmName('down');
    await c.create(vm(ns, name, {}, { [OWN_MANAGER_LABEL]: ns }));
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);

    // vCenter goes away (for this manager): its address now points at a closed port.
    const [closed] = (await freePorts(1)) as [number];
    await c.request('PATCH', rawPath(`/api/v1/namespaces/${opNS}/configmaps/vmop-provider-config`), {
      contentType: 'application/merge-patch+json',
      body: { data: { vcenter: `https://127.0.0.1:${closed}` } },
    });
    // The manager reads its provider configuration at most every 5 s.
    await new Promise((r) => setTimeout(r, 6000));
    await c.request('DELETE', vmPath(ns, name));
    const failing = await eventually('DeleteFailed', async () => {
      const obj = await getVM(c, ns, name);
      return condition(obj, 'Ready')?.reason === 'DeleteFailed' ? obj : undefined;
    });
    assert.match(
      condition(failing, 'Ready')!.message,
      /cannot delete the vSphere VM yet: .*ECONNREFUSED|cannot delete the vSphere VM yet/,
    );
    assert.ok(failing.metadata.finalizers?.includes('vmoperator.vmware.com/virtualmachine'));
    // Each retry records the Event again. The key's backoff may have grown while vCenter was away (up to a
    // minute on a loaded machine), so a write wakes the next retry at once, and the wait covers the backoff.
    await c.request('PATCH', vmPath(ns, name), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { nudge: '0' } } },
    });
    const warnings = await eventually(
      'retries',
      async () => {
        const ev = (await eventsFor(c, ns, name)).find((e) => e.reason === 'DeleteFailed');
        return ev && (ev.count ?? 1) >= 2 ? ev : undefined;
      },
      90_000,
    );
    assert.match(warnings.message, /the VirtualMachine stays until it is gone/);
    assert.equal(await vspherePowerState(ns, name), 'poweredOn', 'the VM is still there in vSphere');

    // vCenter is back: the next retry destroys the VM and lets the object go.
    await c.request('PATCH', rawPath(`/api/v1/namespaces/${opNS}/configmaps/vmop-provider-config`), {
      contentType: 'application/merge-patch+json',
      body: { data: { vcenter: shared.data.vcenter } },
    });
    // Nudge a reconcile rather than wait out the backoff (up to a minute).
    await c.request('PATCH', vmPath(ns, name), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { nudge: '1' } } },
    });
    await waitForGone(c, ns, name, 60_000);
    assert.equal(await vspherePowerState(ns, name), undefined, 'the vSphere VM was destroyed');
  });
});
