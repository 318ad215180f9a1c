// The manager as it runs in a cluster: a Deployment of two replicas with leader election (controllers run on
// the leader, webhooks on both), health probes, resource bounds and a locked-down security context; the
// Service the webhook configurations call; a PodDisruptionBudget that keeps one replica up; and the network
// defaults ConfigMap, with every key present and empty (nothing stated) for the administrator to fill.
import { NETWORK_CONFIGMAP } from '../controllers/virtualmachine/network-config.js';
import type { KubeObject } from '../runtime/kube-client.js';
import { MANAGER_NAME, WEBHOOK_CERT_SECRET } from './rbac.js';
const LABELS = { 'app.kubernetes.io/name': 'vmop', 'app.kubernetes.io/component': 'controller-manager' };

/** The keys of ConfigMap vmop-network-config, as the manager reads them (network-config.ts). */
export interface NetworkDefaultsData {
  /** Global nameservers for status.network.config.dns, space- or comma-separated. */
  nameservers?: string;
  /** Global search domains, space- or comma-separated. */
  searchDomains?: string;
  /** "true" or "false": the default network gives IP4 / IP6 addresses by DHCP. Empty: DHCP4 where no static source. */
  dhcp4?: string;
  dhcp6?: string;
}

/** The operator's network ConfigMap, its keys present (empty unless given). */
export function networkConfigMap(namespace: string, data: NetworkDefaultsData = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: NETWORK_CONFIGMAP, namespace, labels: LABELS },
    data: { nameservers: '', searchDomains: '', dhcp4: '', dhcp6: '', ...data },
  };
}

export interface ManagerOptions {
  namespace: string;
  image: string;
  replicas?: number;
  webhookService: string;
  webhookServicePort: number;
  /**
   * The Helm chart's stand-ins (chart.ts turns each into a template expression); absent for the plain
   * manifests. Each value is a string the chart renderer finds in the YAML.
   */
  chart?: ChartSlots;
}

/** Where the chart's values go: strings placed in the objects and replaced by template expressions. */
export interface ChartSlots {
  pullPolicy: string;
  resources: string;
  nodeSelector: string;
  tolerations: string;
  affinity: string;
  logLevel: string;
  extraArgs: string;
  extraEnv: string;
}

/** The manager's resource bounds: 1,000 VMs peak at about 170 MiB RSS (npm run bench -- vms --vms 1000). */
export const DEFAULT_RESOURCES = { requests: { cpu: '100m', memory: '192Mi' }, limits: { memory: '384Mi' } };

/** The two replicas on different nodes where the cluster has them (preferred, so one node still runs both). */
export const DEFAULT_AFFINITY = {
  podAntiAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [
      {
        weight: 100,
        podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: LABELS } },
      },
    ],
  },
};

export function managerObjects(o: ManagerOptions): KubeObject[] {
  return [
    // (The chart does not own the namespace: `helm install --create-namespace` makes it.)
    ...(o.chart ? [] : [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace } }]),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: MANAGER_NAME, namespace: o.namespace, labels: LABELS },
      spec: {
        replicas: o.replicas ?? 2,
        selector: { matchLabels: LABELS },
        template: {
          metadata: { labels: LABELS },
          spec: {
            serviceAccountName: MANAGER_NAME,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            ...(o.chart ? { nodeSelector: o.chart.nodeSelector, tolerations: o.chart.tolerations } : {}),
            affinity: o.chart?.affinity ?? DEFAULT_AFFINITY,
            containers: [
              {
                name: 'manager',
                image: o.image,
                imagePullPolicy: o.chart?.pullPolicy ?? 'IfNotPresent',
                args: [
                  'manager',
                  '--leader-elect',
                  '--health-addr',
                  '0.0.0.0:8081',
                  '--webhook-addr',
                  '0.0.0.0:9443',
                  '--webhook-cert-secret',
                  WEBHOOK_CERT_SECRET,
                  '--webhook-service',
                  o.webhookService,
                  '--log-level',
                  o.chart?.logLevel ?? 'info',
                  ...(o.chart ? [o.chart.extraArgs] : []),
                ],
                env: [
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  {
                    name: 'VMOP_SERVICE_ACCOUNT',
                    value: `system:serviceaccount:${o.namespace}:${MANAGER_NAME}`,
                  },
                  ...(o.chart ? [{ name: o.chart.extraEnv }] : []),
                ],
                ports: [
                  { name: 'webhook', containerPort: 9443 },
                  { name: 'health', containerPort: 8081 },
                ],
                livenessProbe: { httpGet: { path: '/healthz', port: 'health' }, periodSeconds: 10 },
                readinessProbe: { httpGet: { path: '/readyz', port: 'health' }, periodSeconds: 5 },
                resources: o.chart?.resources ?? DEFAULT_RESOURCES,
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: o.webhookService, namespace: o.namespace, labels: LABELS },
      spec: { selector: LABELS, ports: [{ name: 'webhook', port: o.webhookServicePort, targetPort: 'webhook' }] },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: MANAGER_NAME, namespace: o.namespace, labels: LABELS },
      spec: { minAvailable: 1, selector: { matchLabels: LABELS } },
    },
    networkConfigMap(o.namespace),
  ];
}
