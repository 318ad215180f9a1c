// spec.cdrom through the shared manager and vcsim, read back with govc: a CD-ROM backed by the ISO file of the
// local library's ISO image, connected and guest-controlled as the spec says, in place before the first boot;
// connected and disconnected while the VM runs; an OVF image refused as a CD-ROM's image; VM Operator's
// admission rules (a guest ID with CD-ROMs, no CD-ROM added while on).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, govc } from '../support/ground.js';
import { API, assertDenied, patchVM, rawPath } from '../support/vm.js';
import {
  condition,
  eventually,
  PHOTON_IMAGE,
  vm,
  vmName,
  vmNamespace,
  waitForCondition,
  waitForPower,
  waitForReason,
} from '../support/vms.js';

interface Cdrom {
  backing?: { fileName?: string };
  connectable?: { connected?: boolean; startConnected?: boolean; allowGuestControl?: boolean };
}

/** The VM's CD-ROM devices as govc reads them. */
async function cdroms(path: string): Promise<Cdrom[]> {
  const r = await govc(['device.info', '-json', '-vm', path, 'cdrom-*']);
  if (r.code !== 0 && /not found|no such device/i.test(r.stderr)) return [];
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { devices?: Cdrom[]; Devices?: Cdrom[] };
  return out.devices ?? out.Devices ?? [];
}

describe('VM controller: CD-ROMs', () => {
  let c: KubeClient;
  let ns: string;
  let iso: string;
  before(async () => {
    c = client();
    ns = await vmNamespace('vm-cdrom');
    // The local library's ISO item, as the image controller mirrors it.
    iso = await eventually('the ISO image', async () => {
      const list = await c.request<{
        items: { metadata: { name: string }; status?: { name?: string; type?: string } }[];
      }>('GET', rawPath(`/apis/${API}/clustervirtualmachineimages`));
      return list.items.find((i) => i.status?.name === 'vmop-tools' && i.status.type === 'ISO')?.metadata.name;
    });
  });
  after(() => c.close());

  it('boots with the ISO connected as the spec says, and connects or disconnects it while the VM runs', async () => {
    const name = vmName('cd');
    const path = `/DC0/vm/${ns}/${name}`;
    await c.create(
      vm(ns, name, {
        guestID: 'vmwarePhoton64Guest',
        cdrom: [{ name: 'cdrom1', image: { kind: 'ClusterVirtualMachineImage', name: iso }, allowGuestControl: false }],
      }),
    );
    const on = await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    assert.equal(condition(on, 'VirtualMachineHardwareReconfigured')?.status, 'True');
    const [cd, ...rest] = await cdroms(path);
    assert.equal(rest.length, 0);
    assert.match(String(cd?.backing?.fileName), /^\[LocalDS_\d\] .*vmop-tools\.iso$/);
    assert.deepEqual([cd?.connectable?.connected, cd?.connectable?.allowGuestControl], [true, false]);

    await patchVM(c, ns, name, {
      spec: {
        cdrom: [{ name: 'cdrom1', image: { kind: 'ClusterVirtualMachineImage', name: iso }, connected: false }],
      },
    });
    await eventually('disconnected, guest control allowed', async () => {
      const [d] = await cdroms(path);
      return d?.connectable?.connected === false && d.connectable.allowGuestControl === true ? true : undefined;
    });
    await waitForCondition(c, ns, name, 'VirtualMachineHardwareReconfigured', 'True');
    assert.equal((await cdroms(path))[0]?.backing?.fileName, cd?.backing?.fileName);
    assert.equal(on.status?.powerState, 'PoweredOn');

    // While it runs, no CD-ROM is added (VM Operator's rule).
    await assertDenied(
      patchVM(c, ns, name, {
        spec: {
          cdrom: [
            { name: 'cdrom1', image: { kind: 'ClusterVirtualMachineImage', name: iso } },
            { name: 'cdrom2', image: { kind: 'ClusterVirtualMachineImage', name: PHOTON_IMAGE } },
          ],
        },
      }),
      'spec.cdrom',
      /updates to this field is not allowed when VM power is on/,
    );
    // Nor renamed: that is one removed and one added, each refused in VM Operator's words.
    const renamed = await assertDenied(
      patchVM(c, ns, name, {
        spec: { cdrom: [{ name: 'cdrom9', image: { kind: 'ClusterVirtualMachineImage', name: iso } }] },
      }),
      'spec.cdrom[0].name',
      /adding new CD-ROMs is not allowed when VM is powered on/,
    );
    assert.ok(
      renamed.causes.some((x) => x.field === 'spec.cdrom.name'),
      JSON.stringify(renamed.causes),
    );
    assert.match(renamed.message, /removing CD-ROMs is not allowed when VM is powered on/);
  });

  it('says an OVF image is no CD-ROM image, and wants a guest ID with CD-ROMs', async () => {
    const name = vmName('ovfcd');
    await c.create(
      vm(ns, name, {
        guestID: 'vmwarePhoton64Guest',
        cdrom: [{ name: 'cdrom1', image: { kind: 'ClusterVirtualMachineImage', name: PHOTON_IMAGE } }],
      }),
    );
    const refused = await waitForReason(c, ns, name, 'VirtualMachineHardwareReconfigured', 'NotAnISO', 60_000);
    assert.match(
      condition(refused, 'VirtualMachineHardwareReconfigured')!.message,
      /is of type OVF; a CD-ROM needs an ISO image/,
    );
    await assertDenied(
      c.create(
        vm(ns, vmName('noguest'), {
          cdrom: [{ name: 'cdrom1', image: { kind: 'ClusterVirtualMachineImage', name: iso } }],
        }),
      ),
      'spec.guestID',
      /Required value: when deploying a VM with CD-ROMs/,
    );
  });
});
