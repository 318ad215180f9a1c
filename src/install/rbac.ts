// The manager's permissions, least privilege: every rule names the code that needs it. The ClusterRole holds
// what the controllers do across namespaces; the Role, in the operator's namespace only, holds the provider
// configuration it reads and the Lease it elects a leader with. A test runs the manager with exactly these
// and checks that each one is used.
import type { KubeObject } from '../runtime/kube-client.js';
import { CONVERTED_CRDS } from '../crd/definitions.js';

export const MANAGER_NAME = 'vmop-controller-manager';

export type ControllerName = 'virtualmachine' | 'virtualmachineimage' | 'ipam';
/**
 * What a rule is for: a controller, the webhooks' certificate rotation (every replica), or the secure metrics
 * endpoint (--metrics-secure-addr).
 */
export type Component = ControllerName | 'webhooks' | 'metrics';

/** The Secret the manager keeps its webhook CA and serving certificate in, and the configurations it updates. */
export const WEBHOOK_CERT_SECRET = 'vmop-webhook-server-cert';
export const WEBHOOK_CONFIGURATIONS = ['vmop-mutating', 'vmop-validating'];

export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  /** Only these objects (what RBAC can restrict by name: get, list/watch by metadata.name, update, patch). */
  resourceNames?: string[];
  /** The code paths that need it. */
  why: string;
  /** The components that use it (a manager started with --controllers uses the union of theirs). */
  usedBy: Component[];
  /**
   * Checked by the API server on the manager's behalf, never requested directly: `update` on an owner's
   * finalizers, which the OwnerReferencesPermissionEnforcement admission plugin requires of a writer that sets
   * blockOwnerDeletion.
   */
  implicit?: true;
}

const BOTH: ControllerName[] = ['virtualmachine', 'virtualmachineimage'];

const VMOP = 'vmoperator.vmware.com';

export const CLUSTER_RULES: Rule[] = [
  {
    apiGroups: ['authentication.k8s.io'],
    resources: ['tokenreviews'],
    verbs: ['create'],
    why: 'secure metrics (--metrics-secure-addr): authenticates the bearer token of each caller of /metrics',
    usedBy: ['metrics'],
  },
  {
    apiGroups: ['authorization.k8s.io'],
    resources: ['subjectaccessreviews'],
    verbs: ['create'],
    why: 'secure metrics (--metrics-secure-addr): asks whether the caller may get /metrics',
    usedBy: ['metrics'],
  },
  {
    apiGroups: ['authentication.k8s.io'],
    resources: ['selfsubjectreviews'],
    verbs: ['create'],
    why: 'webhooks: the manager asks who it is at start, so its own writes (vmop.dev metadata, its finalizer) count as privileged',
    usedBy: ['webhooks'],
  },
  {
    apiGroups: [VMOP],
    resources: ['virtualmachines/finalizers'],
    verbs: ['update'],
    why: 'VM controller: IPAddressClaims it creates block their VM’s deletion (blockOwnerDeletion), which hardened clusters allow only to writers that may update the owner’s finalizers',
    usedBy: ['virtualmachine'],
    implicit: true,
  },
  {
    apiGroups: ['ipam.cluster.x-k8s.io'],
    resources: ['ipaddressclaims/finalizers'],
    verbs: ['update'],
    why: 'IPAM provider: IPAddresses it creates block their claim’s deletion (blockOwnerDeletion), as above',
    usedBy: ['ipam'],
    implicit: true,
  },
  {
    apiGroups: [VMOP],
    resources: ['virtualmachines'],
    verbs: ['get', 'list', 'watch', 'patch'],
    why: 'VM controller: informer (list, watch); finalizer and zone label (patch); status read-modify-write for restarts and after conflicts (get)',
    usedBy: ['virtualmachine'],
  },
  {
    apiGroups: [VMOP],
    resources: ['virtualmachines/status'],
    verbs: ['update'],
    why: 'VM controller: status (uniqueID, UUIDs, power state, host, zone, conditions, lastRestartTime)',
    usedBy: ['virtualmachine'],
  },
  {
    apiGroups: [VMOP],
    resources: ['virtualmachineclasses'],
    verbs: ['list', 'watch'],
    why: 'VM controller: class informer (hardware and configSpec of new VMs)',
    usedBy: ['virtualmachine'],
  },
  {
    apiGroups: [VMOP],
    resources: ['virtualmachineimages', 'clustervirtualmachineimages'],
    verbs: ['list', 'watch'],
    why: 'VM controller: image informers; image controller: lists the images it mirrored',
    usedBy: BOTH,
  },
  {
    apiGroups: [VMOP],
    resources: ['virtualmachineimages', 'clustervirtualmachineimages'],
    verbs: ['create', 'patch', 'delete'],
    why: 'image controller: creates an image per library item, relabels it when the item changes (patch), deletes it when the item goes',
    usedBy: ['virtualmachineimage'],
  },
  {
    apiGroups: [VMOP],
    resources: ['virtualmachineimages/status', 'clustervirtualmachineimages/status'],
    verbs: ['update'],
    why: 'image controller: image status from the library item and its OVF',
    usedBy: ['virtualmachineimage'],
  },
  {
    apiGroups: ['ipam.cluster.x-k8s.io'],
    resources: ['ipaddressclaims'],
    verbs: ['list', 'watch', 'create', 'delete'],
    why: 'VM controller: one IPAddressClaim per interface on a Network with an IP pool (create), released when the VM goes (delete); IPAM provider: claims to answer (list, watch)',
    usedBy: ['virtualmachine', 'ipam'],
  },
  {
    apiGroups: ['ipam.cluster.x-k8s.io'],
    resources: ['ipaddresses'],
    verbs: ['list', 'watch'],
    why: "VM controller: the addresses its claims got; IPAM provider: a pool's addresses in use",
    usedBy: ['virtualmachine', 'ipam'],
  },
  {
    apiGroups: ['ipam.cluster.x-k8s.io'],
    resources: ['ipaddresses'],
    verbs: ['create', 'delete'],
    why: 'IPAM provider (--controllers …,ipam): one IPAddress per allocated address (named after it), deleted when its claim goes',
    usedBy: ['ipam'],
  },
  {
    apiGroups: ['ipam.cluster.x-k8s.io'],
    resources: ['ipaddressclaims/status'],
    verbs: ['patch'],
    why: "IPAM provider: a claim's addressRef and Ready condition (PoolExhausted, PoolNotFound, InvalidPool)",
    usedBy: ['ipam'],
  },
  {
    apiGroups: ['vmop.dev'],
    resources: ['ippools'],
    verbs: ['list', 'watch'],
    why: 'IPAM provider: the pools it serves',
    usedBy: ['ipam'],
  },
  {
    apiGroups: ['vmop.dev'],
    resources: ['ippools/status'],
    verbs: ['patch'],
    why: 'IPAM provider: total and used addresses of each pool',
    usedBy: ['ipam'],
  },
  {
    apiGroups: ['vmop.dev'],
    resources: ['networks'],
    verbs: ['list', 'watch'],
    why: "VM controller: Network informer (each interface's port group and DHCP modes)",
    usedBy: ['virtualmachine'],
  },
  {
    apiGroups: ['storage.k8s.io'],
    resources: ['storageclasses'],
    verbs: ['list', 'watch'],
    why: 'VM controller: storage class informer (storagePolicyID)',
    usedBy: ['virtualmachine'],
  },
  {
    apiGroups: [''],
    resources: ['secrets'],
    verbs: ['get'],
    why: "VM controller: bootstrap Secrets in the VM's namespace (Cloud-Init rawCloudConfig, user passwords, file contents), read right before a power-on",
    usedBy: ['virtualmachine'],
  },
  {
    apiGroups: [''],
    resources: ['persistentvolumeclaims', 'persistentvolumes'],
    verbs: ['list', 'watch'],
    why: "VM controller: claim and volume informers (a PVC volume's First Class Disk is its PersistentVolume's CSI volume handle)",
    usedBy: ['virtualmachine'],
  },
  {
    apiGroups: [''],
    resources: ['resourcequotas'],
    verbs: ['list', 'watch'],
    why: 'VM controller: which storage classes are associated with a namespace',
    usedBy: ['virtualmachine'],
  },
  {
    apiGroups: [''],
    resources: ['events'],
    verbs: ['create', 'get', 'patch'],
    why: 'event recorder: Events on VMs (create; a repeat bumps the count of the existing one: get, patch)',
    usedBy: ['virtualmachine'],
  },
  {
    apiGroups: ['admissionregistration.k8s.io'],
    resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
    verbs: ['list', 'watch', 'patch'],
    resourceNames: WEBHOOK_CONFIGURATIONS,
    why: "webhook certificates (--webhook-cert-secret): watches vmop's two webhook configurations and patches their caBundle",
    usedBy: ['webhooks'],
  },
  {
    apiGroups: ['apiextensions.k8s.io'],
    resources: ['customresourcedefinitions'],
    verbs: ['list', 'watch', 'patch'],
    resourceNames: [...CONVERTED_CRDS],
    why: 'webhook certificates (--webhook-cert-secret): the caBundle (and Service namespace) of the conversion webhook of the CRDs served in several versions',
    usedBy: ['webhooks'],
  },
];

export const NAMESPACE_RULES: Rule[] = [
  {
    apiGroups: [''],
    resources: ['configmaps', 'secrets'],
    verbs: ['get'],
    why: 'provider: ConfigMap vmop-provider-config and the vCenter credentials Secret; image controller: ConfigMap vmop-content-libraries',
    usedBy: BOTH,
  },
  {
    apiGroups: [''],
    resources: ['configmaps'],
    verbs: ['list', 'watch'],
    resourceNames: ['vmop-network-config'],
    why: 'VM controller: watches ConfigMap vmop-network-config (global DNS and the default network, for status.network.config)',
    usedBy: ['virtualmachine'],
  },
  {
    apiGroups: [''],
    resources: ['secrets'],
    verbs: ['list', 'watch', 'update'],
    resourceNames: [WEBHOOK_CERT_SECRET],
    why: `webhook certificates (--webhook-cert-secret): watches Secret ${WEBHOOK_CERT_SECRET} and renews what it holds`,
    usedBy: ['webhooks'],
  },
  {
    apiGroups: [''],
    resources: ['secrets'],
    verbs: ['create'],
    why: `webhook certificates: creates Secret ${WEBHOOK_CERT_SECRET} on first start (RBAC cannot limit create by name)`,
    usedBy: ['webhooks'],
  },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['get', 'create', 'update'],
    why: 'leader election (--leader-elect): the Lease vmop-controller-manager',
    usedBy: BOTH,
  },
];

function k8sRules(rules: Rule[]) {
  return rules.map((r) => ({
    apiGroups: r.apiGroups,
    resources: r.resources,
    ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}),
    verbs: r.verbs,
  }));
}

/** ServiceAccount, ClusterRole(+Binding) and Role(+Binding) for a manager in `namespace`. */
/**
 * ClusterRole vmop-metrics-reader (for scrapers of the secure metrics endpoint), and ClusterRoles that
 * Kubernetes' role aggregation folds into the built-in `view`, `edit` and `admin`, so users
 * bound to those get the VM kinds as they get Pods: `view` reads them, `edit` and `admin` also write
 * VirtualMachines (classes and images stay the platform's).
 */
export function aggregatedRoles(): KubeObject[] {
  const kinds = ['virtualmachines', 'virtualmachineclasses', 'virtualmachineimages', 'clustervirtualmachineimages'];
  const read = ['get', 'list', 'watch'];
  const role = (
    name: string,
    to: string[],
    rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[],
  ) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name,
      labels: Object.fromEntries(to.map((r) => [`rbac.authorization.k8s.io/aggregate-to-${r}`, 'true'])),
    },
    rules,
  });
  return [
    // For Prometheus' ServiceAccount: the secure metrics endpoint lets in who may get /metrics.
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'vmop-metrics-reader' },
      rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
    },
    role(
      'vmop-aggregate-to-view',
      ['view', 'edit', 'admin'],
      [
        { apiGroups: ['vmoperator.vmware.com'], resources: [...kinds, 'virtualmachines/status'], verbs: read },
        { apiGroups: ['vmop.dev'], resources: ['networks', 'ippools'], verbs: read },
      ],
    ),
    role(
      'vmop-aggregate-to-edit',
      ['edit', 'admin'],
      [
        {
          apiGroups: ['vmoperator.vmware.com'],
          resources: ['virtualmachines'],
          verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'],
        },
      ],
    ),
  ];
}

export function rbacObjects(namespace: string): KubeObject[] {
  const subject = [{ kind: 'ServiceAccount', name: MANAGER_NAME, namespace }];
  return [
    ...aggregatedRoles(),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: MANAGER_NAME, namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: MANAGER_NAME },
      rules: k8sRules(CLUSTER_RULES),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: MANAGER_NAME },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: MANAGER_NAME },
      subjects: subject,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: MANAGER_NAME, namespace },
      rules: k8sRules(NAMESPACE_RULES),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: MANAGER_NAME, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: MANAGER_NAME },
      subjects: subject,
    },
  ];
}

/** Every (group, resource, verb) the rules grant, as "group/resource:verb" ("" group for core). */
export function grantedPermissions(rules: Rule[], usedBy?: Component, opts: { explicitOnly?: boolean } = {}): string[] {
  return rules
    .filter((r) => (!usedBy || r.usedBy.includes(usedBy)) && !(opts.explicitOnly && r.implicit))
    .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`))));
}
