// PersistentVolumeClaim volumes, end to end against the real API server (with kube-controller-manager
// binding claims) and vcsim: the spec's Storage steps as written (claim → First Class Disk → VM volume
// attached), hot remove and add, delete VM (disk detached and kept) and delete claim (disk deleted per the
// reclaim policy), a power-on that waits for a pending volume, a storage class not associated with the
// namespace, and no second attach of a disk already attached when the manager did not record it in status.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { client, govc, govcCollect } from '../support/ground.js';
import { patchVM, vmPath, rawPath } from '../support/vm.js';
import { vimClient } from '../support/vsphere.js';
import { VSphereAPI } from '../../src/vsphere/api.js';
import {
  condition,
  eventsFor,
  eventually,
  getVM,
  vm,
  vmName,
  vmNamespace,
  waitForGone,
  waitForPower,
  type VMObject,
} from '../support/vms.js';

interface PVCObject extends KubeObject {
  spec: { volumeName?: string };
  status?: { phase?: string };
}

interface VolumeStatus {
  name: string;
  attached?: boolean;
  diskUUID?: string;
  limit?: string;
  error?: string;
}

/** The spec's step 1, in namespace `ns`. */
function pvc(ns: string, name: string, storageClassName = 'my-storage-class'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: ns },
    spec: {
      accessModes: ['ReadWriteOnce'],
      volumeMode: 'Filesystem',
      resources: { requests: { storage: '8Gi' } },
      storageClassName,
    },
  };
}

/** A First Class Disk as govc sees it (any datastore), or undefined. */
async function fcd(id: string): Promise<{ name: string; capacityInMB: number; consumers: string[] } | undefined> {
  for (const ds of ['LocalDS_0', 'LocalDS_1']) {
    const r = await govc(['disk.ls', '-json', '-ds', ds, id]);
    if (r.code !== 0) continue;
    const parsed = JSON.parse(r.stdout) as {
      objects?: { config: { name: string; capacityInMB: number; consumerId?: { id: string }[] } }[];
    };
    const o = parsed.objects?.[0];
    if (o) {
      return {
        name: o.config.name,
        capacityInMB: o.config.capacityInMB,
        consumers: (o.config.consumerId ?? []).map((x) => x.id.toLowerCase()),
      };
    }
  }
  return undefined;
}

function volumesOf(obj: VMObject): VolumeStatus[] {
  return ((obj.status as { volumes?: VolumeStatus[] } | undefined)?.volumes ?? []) as VolumeStatus[];
}

describe('VM controller: PersistentVolumeClaim volumes', () => {
  let c: KubeClient;
  before(() => {
    c = client();
  });
  after(() => c.close());

  async function bound(ns: string, name: string): Promise<{ pv: string; disk: string }> {
    const claim = await eventually(
      `claim ${name} bound`,
      async () => {
        const o = await c.get<PVCObject>('v1', 'PersistentVolumeClaim', name, ns);
        return o.status?.phase === 'Bound' && o.spec.volumeName ? o : undefined;
      },
      60_000,
    );
    const pv = await c.get<KubeObject & { spec: { csi: { driver: string; volumeHandle: string } } }>(
      'v1',
      'PersistentVolume',
      claim.spec.volumeName!,
    );
    assert.equal(pv.spec.csi.driver, 'csi.vsphere.vmware.com');
    return { pv: claim.spec.volumeName!, disk: pv.spec.csi.volumeHandle };
  }

  /** The VM's VirtualDisk device backed by First Class Disk `id`, as govc reads the VM's devices. */
  async function volumeDevice(
    ns: string,
    name: string,
    id: string,
  ): Promise<{ capacityInKB: number; uuid?: string } | undefined> {
    const props = await govcCollect(`/DC0/vm/${ns}/${name}`, ['config.hardware.device']);
    const devices = (props['config.hardware.device'] ?? []) as {
      capacityInKB?: number;
      vDiskId?: { id?: string };
      backing?: { uuid?: string };
    }[];
    const found = devices.find((d) => d.vDiskId?.id === id);
    return found ? { capacityInKB: Number(found.capacityInKB), uuid: found.backing?.uuid } : undefined;
  }

  async function attachedVolume(ns: string, name: string, volume: string): Promise<VolumeStatus> {
    const obj = await eventually(
      `volume ${volume} attached`,
      async () => {
        const o = await getVM(c, ns, name);
        return volumesOf(o).find((v) => v.name === volume && v.attached) ? o : undefined;
      },
      60_000,
    );
    return volumesOf(obj).find((v) => v.name === volume)!;
  }

  it('follows the spec: a claim gets a disk, the VM gets the disk; hot remove and add; delete VM and claim', async () => {
    const ns = await vmNamespace('volumes');
    await c.create(pvc(ns, 'my-pvc'));
    const { pv, disk } = await bound(ns, 'my-pvc');
    const created = await fcd(disk);
    assert.ok(created, 'the First Class Disk exists');
    assert.equal(created.name, pv);
    assert.equal(created.capacityInMB, 8 * 1024);

    const name = vmName('my-vm');
    await c.create(vm(ns, name, { volumes: [{ name: 'my-disk-1', persistentVolumeClaim: { claimName: 'my-pvc' } }] }));
    const obj = await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const status = await attachedVolume(ns, name, 'my-disk-1');
    assert.deepEqual(
      { ...status, diskUUID: undefined },
      { name: 'my-disk-1', type: 'Managed', attached: true, limit: '8Gi', diskUUID: undefined },
    );
    // vSphere (govc) says the disk's consumer is this VM, and the VM has a disk device backed by it (vDiskId),
    // whose backing UUID status.volumes[].diskUUID reports.
    assert.ok((await fcd(disk))!.consumers.includes(obj.spec.biosUUID!.toLowerCase()));
    const device = await volumeDevice(ns, name, disk);
    assert.ok(device, 'a VirtualDisk backed by the First Class Disk');
    assert.equal(device.capacityInKB, 8 * 1024 * 1024);
    assert.match(status.diskUUID ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(status.diskUUID, device.uuid);
    assert.equal(condition(await getVM(c, ns, name), 'VirtualMachineVolumesReady')?.status, 'True');
    const reasons = (await eventsFor(c, ns, name)).map((e) => e.reason);
    assert.ok(reasons.includes('VolumeAttached'), reasons.join(','));

    // Hot remove: detached, the disk stays; hot add: attached again.
    await patchVM(c, ns, name, { spec: { volumes: null } });
    await eventually('detached', async () => ((await fcd(disk))!.consumers.length === 0 ? true : undefined));
    assert.equal(await volumeDevice(ns, name, disk), undefined, 'the disk device is gone from the VM');
    await eventually('status.volumes empty', async () =>
      volumesOf(await getVM(c, ns, name)).length === 0 ? true : undefined,
    );
    assert.equal((await getVM(c, ns, name)).status?.powerState, 'PoweredOn');
    await patchVM(c, ns, name, {
      spec: { volumes: [{ name: 'my-disk-1', persistentVolumeClaim: { claimName: 'my-pvc' } }] },
    });
    await attachedVolume(ns, name, 'my-disk-1');
    assert.ok((await fcd(disk))!.consumers.includes(obj.spec.biosUUID!.toLowerCase()));

    // Delete the VM: the disk is detached and kept (it belongs to the claim).
    await c.request('DELETE', vmPath(ns, name));
    await waitForGone(c, ns, name, 60_000);
    const kept = await fcd(disk);
    assert.ok(kept, 'the disk outlives the VM');
    assert.deepEqual(kept.consumers, []);

    // Delete the claim: reclaim policy Delete removes the volume and its disk.
    await c.request('DELETE', rawPath(`/api/v1/namespaces/${ns}/persistentvolumeclaims/my-pvc`));
    await eventually(
      'volume deleted',
      async () =>
        (await c.get('v1', 'PersistentVolume', pv).then(
          () => false,
          () => true,
        )) || undefined,
      60_000,
    );
    assert.equal(await fcd(disk), undefined, 'the disk is deleted with its volume');
  });

  it('powers on only once a pending volume is attached', async () => {
    const ns = await vmNamespace('volwait');
    const name = vmName('waits');
    await c.create(vm(ns, name, { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'later' } }] }));
    const waiting = await eventually(
      'volumes pending',
      async () => {
        const o = await getVM(c, ns, name);
        return condition(o, 'VirtualMachineVolumesReady')?.status === 'False' && o.status?.uniqueID ? o : undefined;
      },
      60_000,
    );
    assert.equal(waiting.status?.powerState, 'PoweredOff');
    assert.match(condition(waiting, 'VirtualMachineVolumesReady')!.message, /PersistentVolumeClaim "later" not found/);
    assert.equal(condition(waiting, 'Ready')?.reason, 'VolumesPending');
    assert.match(volumesOf(waiting)[0]!.error ?? '', /PersistentVolumeClaim "later" not found/);

    await c.create(pvc(ns, 'later'));
    await bound(ns, 'later');
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const status = await attachedVolume(ns, name, 'data');
    assert.equal(status.error, undefined);
  });

  it('refuses a claim of a storage class not associated with the namespace, on the claim and on the VM', async () => {
    const ns = await vmNamespace('volassoc', { storage: true });
    // A second namespace-less class: vSphere too, but no ResourceQuota associates it with ns.
    const other = `other-${ns}`;
    await c.create({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: other },
      provisioner: 'csi.vsphere.vmware.com',
      parameters: { storagePolicyID: 'aa6d5a82-1c88-45da-85d3-3d74b91a5bad' },
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
    });
    try {
      await c.create(pvc(ns, 'elsewhere', other));
      // kube-controller-manager's volume binder may say ProvisioningFailed first ("storageclass ... not found",
      // before its cache has the new class): the provisioner's own Event is the one that names the rule.
      const refusal = new RegExp(`StorageClass "${other}" is not associated with namespace ${ns}`);
      const ev = await eventually('ProvisioningFailed event naming the association rule', async () => {
        const list = await c.request<{
          items: { reason: string; message: string; involvedObject: { name: string } }[];
        }>('GET', rawPath(`/api/v1/namespaces/${ns}/events`));
        return list.items.find(
          (e) => e.reason === 'ProvisioningFailed' && e.involvedObject.name === 'elsewhere' && refusal.test(e.message),
        );
      });
      assert.match(ev.message, refusal);
      const name = vmName('assoc');
      await c.create(vm(ns, name, { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'elsewhere' } }] }));
      const obj = await eventually('volume error', async () => {
        const o = await getVM(c, ns, name);
        return volumesOf(o)[0]?.error ? o : undefined;
      });
      assert.match(volumesOf(obj)[0]!.error!, /is not associated with namespace/);
      assert.equal(obj.status?.powerState, 'PoweredOff');
    } finally {
      await c.request('DELETE', rawPath(`/apis/storage.k8s.io/v1/storageclasses/${other}`)).catch(() => undefined);
    }
  });

  it('does not attach again a disk that is already attached (a restart between the task and the status)', async () => {
    const ns = await vmNamespace('volonce');
    await c.create(pvc(ns, 'once'));
    const { disk } = await bound(ns, 'once');
    const name = vmName('once');
    await c.create(vm(ns, name));
    const obj = await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    // The attach task ran, but nothing reached Kubernetes (as if the manager died right after the task).
    const vim = await vimClient();
    try {
      const api = new VSphereAPI(vim);
      const ref = { type: 'VirtualMachine', value: obj.status!.uniqueID! };
      let datastore: { type: string; value: string } | undefined;
      for (const d of (await api.inventory()).datastores) {
        if (
          await api.retrieveDisk(disk, d.obj).then(
            () => true,
            () => false,
          )
        )
          datastore = d.obj;
      }
      assert.ok(datastore);
      await api.attachDisk(ref, disk, datastore);
      const attachTasks = async () =>
        (await api.recentTasks(ref)).filter((t) => t.info.descriptionId?.includes('attachDisk')).length;
      const before = await attachTasks();
      assert.ok(before >= 1);
      await patchVM(c, ns, name, {
        spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'once' } }] },
      });
      await attachedVolume(ns, name, 'data');
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(await attachTasks(), before, 'no second AttachDisk_Task');
      assert.ok(!(await eventsFor(c, ns, name)).some((e) => e.reason === 'VolumeAttached'));
    } finally {
      await vim.logout();
    }
  });
});
