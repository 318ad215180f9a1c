// Seeds a ground with what the spec's examples name: the CRDs, namespace my-namespace, VirtualMachineClass
// my-vm-class, StorageClass my-storage-class, RBAC for the non-privileged user, and in vcsim a content
// library with the OVF images the project ships.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION } from '../api/v1alpha6/common.js';
import { customResourceDefinitions, parseServedVersions, type ConversionClientConfig } from '../crd/definitions.js';
import { LIBRARIES_CONFIGMAP } from '../controllers/virtualmachineimage/library-bindings.js';
import { PROVIDER_CONFIGMAP } from '../providers/vsphere/config.js';
import { KubeClient, type KubeObject } from '../runtime/kube-client.js';
import { sleep } from './processes.js';
import { emptyISO } from './iso.js';
import { emptyStreamOptimizedVMDK } from './vmdk.js';
import { repoRoot, type Progress } from './toolchain.js';
import { DEFAULT_NETWORK_LABEL, NETWORK_API_VERSION } from '../api/vmop/network.js';

const run = promisify(execFile);

export const EXAMPLE_NAMESPACE = 'my-namespace';
export const CLUSTER_LIBRARY = 'vmop-cluster-images';
/** vcsim's "vSAN Default Storage Policy", the policy behind my-storage-class. */
export const VSAN_DEFAULT_POLICY_ID = 'aa6d5a82-1c88-45da-85d3-3d74b91a5bad';
export const SHIPPED_IMAGES = ['photon-5', 'ubuntu-24.04'];
/** The ISO item the local library carries (for spec.cdrom): an empty ISO 9660 image the environment generates. */
export const SHIPPED_ISO = 'vmop-tools';

export function kubeConfigFrom(file: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  if (context) kc.setCurrentContext(context);
  return kc;
}

/** Server-side applies each object with field manager `vmop`. */
export async function applyObjects(client: KubeClient, objects: KubeObject[]): Promise<void> {
  for (const obj of objects) await client.apply(obj);
}

/**
 * Applies the CRDs (the versioned ones converting through `conversion`, the manager's webhook server) and waits
 * until the API server serves each of them.
 */
export async function installCRDs(
  client: KubeClient,
  conversion?: ConversionClientConfig,
  timeoutMs = 60_000,
): Promise<void> {
  // VMOP_SERVED_VERSIONS (e.g. v1alpha6) serves fewer versions of VM Operator's kinds; all by default.
  const served = process.env.VMOP_SERVED_VERSIONS;
  const crds = customResourceDefinitions(
    conversion,
    served ? parseServedVersions(served, 'VMOP_SERVED_VERSIONS') : undefined,
  );
  await applyObjects(client, crds as unknown as KubeObject[]);
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (;;) {
      const live = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(
        crd.apiVersion,
        crd.kind,
        crd.metadata.name,
      );
      if (live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} was not established in time`);
      await sleep(100);
    }
  }
  client.resetDiscovery();
}

export const OPERATOR_NAMESPACE = 'vmop-system';

/** The provider configuration for a ground's vcsim: vCenter address, CA, credentials, zones, library bindings. */
export function providerObjects(vcsim: {
  url: string;
  caPEM: string;
  username: string;
  password: string;
}): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'vmop-vcenter-credentials', namespace: OPERATOR_NAMESPACE },
      stringData: { username: vcsim.username, password: vcsim.password },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: PROVIDER_CONFIGMAP, namespace: OPERATOR_NAMESPACE },
      data: {
        vcenter: new URL(vcsim.url).origin,
        datacenter: 'DC0',
        caBundle: vcsim.caPEM,
        credentialsSecret: 'vmop-vcenter-credentials',
        zones: 'zone-a:\n  cluster: DC0_C0\nzone-b:\n  cluster: DC0_C1\n',
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: LIBRARIES_CONFIGMAP, namespace: OPERATOR_NAMESPACE },
      data: { cluster: CLUSTER_LIBRARY },
    },
  ];
}

/** What providerObjects needs from a ground. */
export async function providerTarget(g: {
  vcsimURL: string;
  caCert: string;
  vcsimUser: string;
  vcsimPassword: string;
}) {
  return { url: g.vcsimURL, caPEM: await readFile(g.caCert, 'utf8'), username: g.vcsimUser, password: g.vcsimPassword };
}

export function exampleObjects(): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: EXAMPLE_NAMESPACE } },
    {
      apiVersion: API_VERSION,
      kind: 'VirtualMachineClass',
      metadata: { name: 'my-vm-class', namespace: EXAMPLE_NAMESPACE },
      spec: {
        configSpec: {
          _typeName: 'VirtualMachineConfigSpec',
          cpuAllocation: { _typeName: 'ResourceAllocationInfo', limit: 400, reservation: 200 },
          memoryAllocation: { _typeName: 'ResourceAllocationInfo', limit: 2048, reservation: 1024 },
        },
        hardware: { cpus: 2, memory: '4Gi' },
      },
    },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'my-storage-class' },
      provisioner: 'csi.vsphere.vmware.com',
      parameters: { storagePolicyID: VSAN_DEFAULT_POLICY_ID },
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
    },
    storageClassAssociation(EXAMPLE_NAMESPACE, 'my-storage-class'),
    // Two networks on vcsim's distributed port groups: DHCP (the namespace's default) and static addresses
    // from an IP pool.
    {
      apiVersion: NETWORK_API_VERSION,
      kind: 'Network',
      metadata: { name: 'dhcp', namespace: EXAMPLE_NAMESPACE, labels: { [DEFAULT_NETWORK_LABEL]: 'true' } },
      spec: { portGroup: 'DC0_DVPG0', dhcp4: true, dhcp6: false },
    },
    {
      apiVersion: NETWORK_API_VERSION,
      kind: 'IPPool',
      metadata: { name: 'static-pool', namespace: EXAMPLE_NAMESPACE },
      spec: { addresses: ['192.168.128.10-192.168.128.250'], prefix: 24, gateway: '192.168.128.1' },
    },
    {
      apiVersion: NETWORK_API_VERSION,
      kind: 'Network',
      metadata: { name: 'static', namespace: EXAMPLE_NAMESPACE },
      spec: { portGroup: 'DC0_DVPG1', ipPool: { name: 'static-pool' } },
    },
    ...userRBAC(),
  ];
}

/**
 * The ResourceQuota that associates a StorageClass with a namespace: VMs and PVCs there may use the class
 * (VM Operator reads the association the same way).
 */
export function storageClassAssociation(namespace: string, storageClass: string, limit = '1Ti'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: `${storageClass}-storage`, namespace },
    spec: { hard: { [`${storageClass}.storageclass.storage.k8s.io/requests.storage`]: limit } },
  };
}

/** What the non-privileged user (group vmop:users) may do: manage VMs in my-namespace, read what they use. */
function userRBAC(): KubeObject[] {
  const group = { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'vmop:users' };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'vmop-user', namespace: EXAMPLE_NAMESPACE },
      rules: [
        {
          apiGroups: ['vmoperator.vmware.com'],
          resources: ['virtualmachines'],
          verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
        },
        {
          apiGroups: ['vmoperator.vmware.com'],
          resources: ['virtualmachines/status', 'virtualmachineclasses', 'virtualmachineimages'],
          verbs: ['get', 'list', 'watch'],
        },
        {
          apiGroups: [''],
          resources: ['persistentvolumeclaims', 'secrets', 'configmaps'],
          verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
        },
        { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'vmop-user', namespace: EXAMPLE_NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'vmop-user' },
      subjects: [group],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'vmop-user' },
      rules: [
        {
          apiGroups: ['vmoperator.vmware.com'],
          resources: ['clustervirtualmachineimages'],
          verbs: ['get', 'list', 'watch'],
        },
        { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'vmop-user' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'vmop-user' },
      subjects: [group],
    },
  ];
}

export interface GovcTarget {
  govc: string;
  url: string;
}

export async function govc(target: GovcTarget, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(target.govc, args, {
      env: { ...process.env, GOVC_URL: target.url, GOVC_INSECURE: '1', GOVC_DATACENTER: 'DC0' },
      timeout: 60_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`govc ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** Creates the cluster-wide content library with the shipped OVF images, unless it is there already. */
export async function seedContentLibrary(target: GovcTarget, progress: Progress = () => {}): Promise<void> {
  const libraries = (await govc(target, ['library.ls'])).split('\n').map((l) => l.trim());
  if (!libraries.includes(`/${CLUSTER_LIBRARY}`)) {
    progress(`creating content library ${CLUSTER_LIBRARY} in vcsim`);
    await govc(target, ['library.create', '-ds', 'LocalDS_0', CLUSTER_LIBRARY]);
  }
  const items = (await govc(target, ['library.ls', `/${CLUSTER_LIBRARY}/*`])).split('\n').map((l) => l.trim());
  for (const image of SHIPPED_IMAGES) {
    if (items.includes(`/${CLUSTER_LIBRARY}/${image}`)) continue;
    progress(`importing image ${image} into ${CLUSTER_LIBRARY}`);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-image-'));
    try {
      await govc(target, ['library.import', '-n', image, CLUSTER_LIBRARY, await imageFiles(image, dir)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  await seedISO(target, items, progress);
}

/**
 * The shipped ISO item, after the OVF images (so their item IDs, and so their image names, stay as they were).
 */
async function seedISO(target: GovcTarget, items: string[], progress: Progress): Promise<void> {
  if (items.includes(`/${CLUSTER_LIBRARY}/${SHIPPED_ISO}`)) return;
  progress(`importing ISO ${SHIPPED_ISO} into ${CLUSTER_LIBRARY}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-iso-'));
  try {
    const file = path.join(dir, `${SHIPPED_ISO}.iso`);
    await writeFile(file, emptyISO('VMOP_TOOLS'));
    await govc(target, ['library.import', '-n', SHIPPED_ISO, CLUSTER_LIBRARY, file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Writes a shipped image into `dir` as govc imports it: its OVF descriptor beside the boot disk the descriptor
 * references, generated empty at the capacity and size the descriptor states. Returns the descriptor's path.
 */
export async function imageFiles(image: string, dir: string): Promise<string> {
  const ovf = await readFile(path.join(repoRoot(), 'config', 'images', `${image}.ovf`), 'utf8');
  const file = /<File ovf:href="([^"]+\.vmdk)" ovf:id="file1" ovf:size="(\d+)"\/>/.exec(ovf);
  const disk = /ovf:capacity="(\d+)" ovf:capacityAllocationUnits="byte \* 2\^30"/.exec(ovf);
  if (!file || !disk) throw new Error(`config/images/${image}.ovf names no boot disk file or capacity in GiB`);
  const vmdk = emptyStreamOptimizedVMDK(file[1]!, Number(disk[1]) * 2 ** 30);
  if (vmdk.length !== Number(file[2])) {
    throw new Error(
      `config/images/${image}.ovf: ovf:size of ${file[1]} must be ${vmdk.length}, the generated disk's size`,
    );
  }
  await writeFile(path.join(dir, file[1]!), vmdk);
  const out = path.join(dir, `${image}.ovf`);
  await writeFile(out, ovf);
  return out;
}
