// Helpers for tests of the VM controller: a namespace with a class and the storage class associated, VM
// objects with names unique across the run (vcsim keeps VM files by name on a shared datastore), waiting for
// conditions, and reading the vSphere side with govc.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import YAML from 'yaml';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { storageClassAssociation } from '../../src/devenv/seed.js';
import { client, govc, govcCollect, testNamespace } from './ground.js';
import { API, vmObject, vmPath, rawPath } from './vm.js';

export const PHOTON_IMAGE = 'vmi-3044b59f15d847781';
export const UBUNTU_IMAGE = 'vmi-ac1b113f8ceb7021d';

export interface VMObject extends KubeObject {
  metadata: KubeObject['metadata'] & { uid?: string; labels?: Record<string, string>; finalizers?: string[] };
  spec: Record<string, unknown> & { instanceUUID?: string; biosUUID?: string };
  status?: Record<string, unknown> & {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    powerState?: string;
    uniqueID?: string;
    zone?: string;
    host?: string;
    lastRestartTime?: string;
  };
}

export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not reached in ${ms} ms${last instanceof Error ? ` (last error: ${last.message})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The class every VM test uses (the spec's example, with reservations and limits). */
export function exampleClass(
  namespace: string,
  name = 'my-vm-class',
  configSpec?: Record<string, unknown>,
): KubeObject {
  return {
    apiVersion: API,
    kind: 'VirtualMachineClass',
    metadata: { name, namespace },
    spec: {
      configSpec: configSpec ?? {
        _typeName: 'VirtualMachineConfigSpec',
        cpuAllocation: { _typeName: 'ResourceAllocationInfo', limit: 400, reservation: 200 },
        memoryAllocation: { _typeName: 'ResourceAllocationInfo', limit: 2048, reservation: 1024 },
      },
      hardware: { cpus: 2, memory: '4Gi' },
    },
  };
}

/** A namespace where VMs can be created: my-vm-class and my-storage-class associated (unless told not to). */
export async function vmNamespace(prefix: string, opts: { cls?: boolean; storage?: boolean } = {}): Promise<string> {
  const ns = await testNamespace(prefix);
  const c = client();
  try {
    if (opts.cls !== false) await c.create(exampleClass(ns));
    if (opts.storage !== false) await c.create(storageClassAssociation(ns, 'my-storage-class'));
  } finally {
    c.close();
  }
  return ns;
}

/** A VM name unique in the run. */
export function vmName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** A VM of the example class and storage class, from the Photon image that vcsim really has. */
export function vm(
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
  labels?: Record<string, string>,
): VMObject {
  return vmObject(namespace, name, { imageName: PHOTON_IMAGE, ...spec }, labels) as VMObject;
}

export function getVM(c: KubeClient, namespace: string, name: string): Promise<VMObject> {
  return c.request<VMObject>('GET', vmPath(namespace, name));
}

export function condition(obj: VMObject, type: string) {
  return obj.status?.conditions?.find((x) => x.type === type);
}

/** Waits until the VM's condition has `status` (and returns the VM). */
export function waitForCondition(
  c: KubeClient,
  namespace: string,
  name: string,
  type: string,
  status: 'True' | 'False',
  ms = 30_000,
): Promise<VMObject> {
  return eventually(
    `${namespace}/${name} ${type}=${status}`,
    async () => {
      const obj = await getVM(c, namespace, name);
      return condition(obj, type)?.status === status ? obj : undefined;
    },
    ms,
  );
}

/** Waits until the VM's condition has reason `reason` (and returns the VM). */
export function waitForReason(
  c: KubeClient,
  namespace: string,
  name: string,
  type: string,
  reason: string,
  ms = 30_000,
): Promise<VMObject> {
  return eventually(
    `${namespace}/${name} ${type} reason ${reason}`,
    async () => {
      const obj = await getVM(c, namespace, name);
      return condition(obj, type)?.reason === reason ? obj : undefined;
    },
    ms,
  );
}

/** Waits until status.powerState is `state` and Ready is True. */
export function waitForPower(
  c: KubeClient,
  namespace: string,
  name: string,
  state: string,
  ms = 30_000,
): Promise<VMObject> {
  return eventually(
    `${namespace}/${name} ${state}`,
    async () => {
      const obj = await getVM(c, namespace, name);
      return obj.status?.powerState === state && condition(obj, 'Ready')?.status === 'True' ? obj : undefined;
    },
    ms,
  );
}

/** govc's power state of the VM in folder `namespace` ("poweredOn" …), or undefined when it does not exist. */
export async function vspherePowerState(namespace: string, name: string): Promise<string | undefined> {
  const r = await govc(['vm.info', '-json', `/DC0/vm/${namespace}/${name}`]);
  if (r.code !== 0) throw new Error(r.stderr);
  const info = JSON.parse(r.stdout) as { virtualMachines?: { runtime: { powerState: string } }[] | null };
  return info.virtualMachines?.[0]?.runtime.powerState;
}

/** Kubernetes Events about an object, oldest first. */
export async function eventsFor(
  c: KubeClient,
  namespace: string,
  name: string,
): Promise<{ reason: string; message: string; type: string; count?: number }[]> {
  const list = await c.request<{
    items: {
      reason: string;
      message: string;
      type: string;
      count?: number;
      involvedObject: { name: string };
      lastTimestamp?: string;
    }[];
  }>('GET', rawPath(`/api/v1/namespaces/${namespace}/events`));
  return list.items.filter((e) => e.involvedObject.name === name);
}

/** Waits until the VM object is gone from the API server (its finalizer released). */
export function waitForGone(c: KubeClient, namespace: string, name: string, ms = 30_000): Promise<true> {
  return eventually(
    `${namespace}/${name} deleted`,
    async () =>
      (await getVM(c, namespace, name).then(
        () => false,
        () => true,
      ))
        ? true
        : undefined,
    ms,
  );
}

/** A namespaced VirtualMachineImage, Ready, backed by library item `itemID` (as the image controller writes it). */
export async function readyImage(
  c: KubeClient,
  namespace: string,
  name: string,
  itemID: string,
  displayName?: string,
): Promise<void> {
  const image = await c.create({ apiVersion: API, kind: 'VirtualMachineImage', metadata: { name, namespace } });
  await c.request('PUT', rawPath(`/apis/${API}/namespaces/${namespace}/virtualmachineimages/${name}/status`), {
    body: {
      ...image,
      status: {
        ...(displayName ? { name: displayName } : {}),
        providerItemID: itemID,
        conditions: [
          { type: 'Ready', status: 'True', reason: 'True', message: '', lastTransitionTime: new Date().toISOString() },
        ],
      },
    },
  });
}

export interface NICDevice {
  key: number;
  macAddress?: string;
  backing?: { port?: { portgroupKey?: string }; deviceName?: string };
}

/** The network adapters of a test VM as govc reads them, in device order (the order of its interfaces). */
export async function vmNICs(namespace: string, name: string): Promise<NICDevice[]> {
  const props = await govcCollect(`/DC0/vm/${namespace}/${name}`, ['config.hardware.device']);
  return ((props['config.hardware.device'] as NICDevice[] | undefined) ?? [])
    .filter((d) => d.macAddress)
    .sort((a, b) => a.key - b.key);
}

/** The Cloud-Init data vmop wrote for the VM, as govc reads its guestinfo ExtraConfig back (decoded). */
export async function guestinfo(
  ns: string,
  name: string,
): Promise<{ metadata: unknown; userdata?: string; raw: Record<string, string> }> {
  const props = await govcCollect(`/DC0/vm/${ns}/${name}`, ['config.extraConfig']);
  const list = (props['config.extraConfig'] as { key: string; value: string }[] | undefined) ?? [];
  const raw = Object.fromEntries(list.map((o) => [o.key, o.value]));
  const decode = (key: string) => gunzipSync(Buffer.from(raw[key]!, 'base64')).toString('utf8');
  assert.equal(raw['guestinfo.metadata.encoding'], 'gzip+base64');
  return {
    metadata: YAML.parse(decode('guestinfo.metadata')),
    userdata: raw['guestinfo.userdata'] ? decode('guestinfo.userdata') : undefined,
    raw,
  };
}
