// The CustomResourceDefinitions vmop serves, built from the API schemas: names, scope, short names, printer
// columns, the status subresource, and for VM Operator's kinds every served version (the hub stored) with the
// conversion webhook between them. config/crd/ holds their YAML, generated from here.
import { s, type JSONSchemaProps, type Schema } from '../api/schema.js';
import { GROUP } from '../api/v1alpha3/common.js';
import { CONVERSION_PATH } from '../webhooks/conversion.js';
import { HUB_VERSION, KIND_VERSIONS, SERVED_VERSIONS, isVersionedKind } from '../api/versions.js';
import { VirtualMachineSpec, VirtualMachineStatus } from '../api/v1alpha6/virtualmachine.js';
import { VirtualMachineClassSpec } from '../api/v1alpha3/virtualmachineclass.js';
import { VirtualMachineImageSpec } from '../api/v1alpha3/virtualmachineimage.js';
import { VirtualMachineImageStatus } from '../api/v1alpha5/virtualmachineimage.js';
import { NETWORK_GROUP, NETWORK_VERSION, NetworkSpec, NetworkStatus } from '../api/vmop/network.js';
import {
  CAPI_IPAM_GROUP,
  CAPI_IPAM_VERSION,
  IPAddressClaimSpec,
  IPAddressClaimStatus,
  IPAddressSpec,
  IPPoolSpec,
  IPPoolStatus,
} from '../api/vmop/ipam.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  priority?: number;
  description?: string;
}

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  scope: 'Namespaced' | 'Cluster';
  shortNames: string[];
  description: string;
  spec: Schema<unknown>;
  status: Schema<unknown>;
  columns: PrinterColumn[];
  /** API group and version of vmop's own kinds (VM Operator's are served in every version of api/versions). */
  group?: string;
  version?: string;
  categories?: string[];
  /**
   * A kind of another project's contract (Cluster API IPAM) that vmop uses but does not own: installed in the
   * local environment, and written to config/crd-contract/ for clusters that lack it, never over theirs.
   */
  contract?: boolean;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Namespaced' | 'Cluster';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }[];
    conversion?: {
      strategy: 'Webhook';
      webhook: { clientConfig: ConversionClientConfig; conversionReviewVersions: string[] };
    };
  };
}

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

// The image and class columns are VM Operator's, and like its CRDs they have no AGE column.
const clusterImageColumns: PrinterColumn[] = [
  { name: 'Display Name', type: 'string', jsonPath: '.status.name' },
  { name: 'Type', type: 'string', jsonPath: '.status.type' },
  { name: 'Image Version', type: 'string', jsonPath: '.status.productInfo.version' },
  { name: 'OS Name', type: 'string', jsonPath: '.status.osInfo.type' },
  { name: 'OS Version', type: 'string', jsonPath: '.status.osInfo.version' },
  { name: 'Hardware Version', type: 'string', jsonPath: '.status.hardwareVersion' },
];
const imageColumns: PrinterColumn[] = [
  ...clusterImageColumns,
  { name: 'Capabilities', type: 'string', jsonPath: '.status.capabilities' },
];

export const KINDS: KindDefinition[] = [
  {
    kind: 'VirtualMachine',
    plural: 'virtualmachines',
    singular: 'virtualmachine',
    scope: 'Namespaced',
    shortNames: ['vm'],
    description: 'A virtual machine on vSphere, sized by a VirtualMachineClass and deployed from a VM image.',
    spec: VirtualMachineSpec,
    status: VirtualMachineStatus,
    columns: [
      { name: 'Power-State', type: 'string', jsonPath: '.status.powerState' },
      { name: 'Class', type: 'string', jsonPath: '.spec.className', priority: 1 },
      { name: 'Image', type: 'string', jsonPath: '.spec.image.name', priority: 1 },
      { name: 'Primary-IP4', type: 'string', jsonPath: '.status.network.primaryIP4', priority: 1 },
      age,
    ],
  },
  {
    kind: 'VirtualMachineClass',
    plural: 'virtualmachineclasses',
    singular: 'virtualmachineclass',
    scope: 'Namespaced',
    shortNames: ['vmclass'],
    description: 'The virtual hardware and resource policies that VirtualMachines of this class get.',
    spec: VirtualMachineClassSpec,
    status: s.object({}, { description: 'Observed state of the class (VM Operator defines none).' }),
    columns: [
      { name: 'CPU', type: 'string', jsonPath: '.spec.hardware.cpus' },
      { name: 'Memory', type: 'string', jsonPath: '.spec.hardware.memory' },
      { name: 'Capabilities', type: 'string', jsonPath: '.status.capabilities', priority: 1 },
    ],
  },
  {
    kind: 'VirtualMachineImage',
    plural: 'virtualmachineimages',
    singular: 'virtualmachineimage',
    scope: 'Namespaced',
    shortNames: ['vmi', 'vmimage'],
    description: 'A VM image available in one namespace, mirrored from a content library item.',
    spec: VirtualMachineImageSpec,
    status: VirtualMachineImageStatus,
    columns: imageColumns,
  },
  {
    kind: 'ClusterVirtualMachineImage',
    plural: 'clustervirtualmachineimages',
    singular: 'clustervirtualmachineimage',
    scope: 'Cluster',
    shortNames: ['cvmi', 'cvmimage', 'clustervmi', 'clustervmimage'],
    description: 'A VM image available in every namespace, mirrored from a content library item.',
    spec: VirtualMachineImageSpec,
    status: VirtualMachineImageStatus,
    columns: clusterImageColumns,
  },
  {
    kind: 'Network',
    group: NETWORK_GROUP,
    version: NETWORK_VERSION,
    categories: ['vmop'],
    plural: 'networks',
    singular: 'network',
    scope: 'Namespaced',
    shortNames: ['vmnet'],
    description: 'A vSphere network that VirtualMachine interfaces connect to, and how guests on it are addressed.',
    spec: NetworkSpec,
    status: NetworkStatus,
    columns: [
      { name: 'Port-Group', type: 'string', jsonPath: '.spec.portGroup' },
      { name: 'DHCP4', type: 'boolean', jsonPath: '.spec.dhcp4' },
      { name: 'Default', type: 'string', jsonPath: ".metadata.labels['vmop\\.dev/default-network']" },
      age,
    ],
  },
  {
    kind: 'IPPool',
    group: NETWORK_GROUP,
    version: NETWORK_VERSION,
    categories: ['vmop'],
    plural: 'ippools',
    singular: 'ippool',
    scope: 'Namespaced',
    shortNames: ['vmippool'],
    description: 'Static addresses that vmop’s IPAM provider hands out to IPAddressClaims.',
    spec: IPPoolSpec,
    status: IPPoolStatus,
    columns: [
      { name: 'Prefix', type: 'integer', jsonPath: '.spec.prefix' },
      { name: 'Gateway', type: 'string', jsonPath: '.spec.gateway' },
      { name: 'Total', type: 'integer', jsonPath: '.status.total' },
      { name: 'Used', type: 'integer', jsonPath: '.status.used' },
      age,
    ],
  },
  {
    kind: 'IPAddressClaim',
    group: CAPI_IPAM_GROUP,
    version: CAPI_IPAM_VERSION,
    contract: true,
    categories: ['cluster-api'],
    plural: 'ipaddressclaims',
    singular: 'ipaddressclaim',
    scope: 'Namespaced',
    shortNames: [],
    description: 'A request for an IP address from a pool (Cluster API IPAM contract).',
    spec: IPAddressClaimSpec,
    status: IPAddressClaimStatus,
    columns: [
      { name: 'Pool Name', type: 'string', jsonPath: '.spec.poolRef.name' },
      { name: 'Pool Kind', type: 'string', jsonPath: '.spec.poolRef.kind' },
      age,
    ],
  },
  {
    kind: 'IPAddress',
    group: CAPI_IPAM_GROUP,
    version: CAPI_IPAM_VERSION,
    contract: true,
    categories: ['cluster-api'],
    plural: 'ipaddresses',
    singular: 'ipaddress',
    scope: 'Namespaced',
    shortNames: [],
    description: 'An IP address handed to a claim (Cluster API IPAM contract).',
    spec: IPAddressSpec,
    status: s.object({}, { description: 'No status.', preserveUnknownFields: true }),
    columns: [
      { name: 'Address', type: 'string', jsonPath: '.spec.address' },
      { name: 'Pool Name', type: 'string', jsonPath: '.spec.poolRef.name' },
      { name: 'Pool Kind', type: 'string', jsonPath: '.spec.poolRef.kind' },
      age,
    ],
  },
];

function rootSchema(def: KindDefinition, spec: Schema<unknown>, status: Schema<unknown>): JSONSchemaProps {
  return {
    type: 'object',
    description: def.description,
    properties: {
      apiVersion: { type: 'string', description: 'Versioned schema of this object.' },
      kind: { type: 'string', description: 'REST resource this object represents.' },
      metadata: { type: 'object' },
      spec: spec.toOpenAPI(),
      status: status.toOpenAPI(),
    },
  };
}

/** Where the API server sends ConversionReviews (the manager's webhook server, path CONVERSION_PATH). */
export type ConversionClientConfig =
  | { url: string; caBundle?: string }
  | { service: { namespace: string; name: string; port: number; path: string }; caBundle?: string };

/** The manager's webhook Service in a cluster, as the install manifests name it. */
export const IN_CLUSTER_SERVICE = { namespace: 'vmop-system', name: 'vmop-webhook-service', port: 443 } as const;

/** The in-cluster default: the manager's webhook Service (the manager corrects the namespace). */
export const IN_CLUSTER_CONVERSION: ConversionClientConfig = {
  service: { ...IN_CLUSTER_SERVICE, path: CONVERSION_PATH },
};

export function customResourceDefinition(
  def: KindDefinition,
  conversion: ConversionClientConfig = IN_CLUSTER_CONVERSION,
  served: readonly string[] = SERVED_VERSIONS,
): CustomResourceDefinition {
  const version = (name: string, storage: boolean, spec: Schema<unknown>, status: Schema<unknown>) => ({
    name,
    // (The storage version is always served.)
    served: storage || served.includes(name),
    storage,
    schema: { openAPIV3Schema: rootSchema(def, spec, status) },
    subresources: { status: {} as Record<string, never> },
    additionalPrinterColumns: def.columns,
  });
  const versioned = !def.group && isVersionedKind(def.kind) ? KIND_VERSIONS[def.kind] : undefined;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${def.group ?? GROUP}`, labels: { 'app.kubernetes.io/part-of': 'vmop' } },
    spec: {
      group: def.group ?? GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        // VM Operator's category for its kinds, and `vmop` on every kind vmop serves: `kubectl get vmop -A`
        // lists all of them.
        categories: def.categories ?? ['vmoperator', 'vmop'],
      },
      scope: def.scope,
      versions: versioned
        ? SERVED_VERSIONS.map((v) => version(v, v === HUB_VERSION, versioned[v].spec, versioned[v].status))
        : [version(def.version ?? HUB_VERSION, true, def.spec, def.status)],
      ...(versioned && {
        conversion: {
          strategy: 'Webhook' as const,
          webhook: { clientConfig: conversion, conversionReviewVersions: ['v1'] },
        },
      }),
    },
  };
}

/** The names of the CRDs that convert between versions through the manager's conversion webhook. */
export const CONVERTED_CRDS: readonly string[] = KINDS.filter((k) => !k.group && isVersionedKind(k.kind)).map(
  (k) => `${k.plural}.${GROUP}`,
);

/**
 * Every CRD, the versioned ones converting through `conversion`. `served` may leave older versions unserved (they
 * stay listed, so objects stored in them still convert): the API server keeps a watch cache per served version
 * and converts every write into each, so a cluster whose clients all speak v1alpha6 saves that work.
 */
export function customResourceDefinitions(
  conversion?: ConversionClientConfig,
  served?: readonly string[],
): CustomResourceDefinition[] {
  return KINDS.map((k) => customResourceDefinition(k, conversion, served));
}

/** A comma-separated list of versions to serve, checked against the ones vmop has. */
export function parseServedVersions(value: string, what: string): string[] {
  const list = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const unknown = list.filter((v) => !(SERVED_VERSIONS as readonly string[]).includes(v));
  if (unknown.length > 0) {
    throw new Error(`${what}: ${unknown.join(', ')} is not a version vmop has (${SERVED_VERSIONS.join(', ')})`);
  }
  return list;
}
