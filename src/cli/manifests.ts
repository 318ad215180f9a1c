// `vmop manifests`: the generated install manifests (CRDs under config/crd/, webhook configurations under
// config/webhook/), printed, written, or checked for staleness against what is committed.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { GENERATED_HEADER, renderCRDs } from '../crd/render.js';
import { repoRoot } from '../install/package-root.js';
import { webhookConfigurations } from '../install/webhook-configuration.js';
import { CLUSTER_RULES, NAMESPACE_RULES, rbacObjects, WEBHOOK_CERT_SECRET } from '../install/rbac.js';
import { managerObjects, type ChartSlots } from '../install/deployment.js';
import { NETWORK_CONFIGMAP } from '../controllers/virtualmachine/network-config.js';
import { dashboard } from '../install/dashboard.js';
import { renderChart } from '../install/chart.js';
import type { KubeObject } from '../runtime/kube-client.js';
import { parseArgs, stringFlag } from './args.js';
import { customResourceDefinitions, IN_CLUSTER_SERVICE, parseServedVersions } from '../crd/definitions.js';

/** Where the operator runs in a cluster; the install manifests refer to these names. */
export const IN_CLUSTER = {
  namespace: IN_CLUSTER_SERVICE.namespace,
  webhookService: IN_CLUSTER_SERVICE.name,
  webhookServicePort: IN_CLUSTER_SERVICE.port,
  image: 'ghcr.io/vmop/vmop:0.1.0',
};

export const CONFIG_DIR = () => path.join(repoRoot(), 'config');
export const CHART_DIR = () => path.join(repoRoot(), 'charts', 'vmop');

/** The in-cluster objects for a namespace, image and replica count, by the chart template that holds them. */
function installObjects(v: {
  namespace: string;
  image: string;
  replicas: number;
  chart?: ChartSlots;
}): { file: string; objects: KubeObject[] }[] {
  return [
    { file: 'rbac.yaml', objects: rbacObjects(v.namespace) },
    {
      file: 'manager.yaml',
      objects: managerObjects({
        namespace: v.namespace,
        image: v.image,
        replicas: v.replicas,
        webhookService: IN_CLUSTER.webhookService,
        webhookServicePort: IN_CLUSTER.webhookServicePort,
        chart: v.chart,
      }),
    },
    {
      file: 'webhooks.yaml',
      objects: webhookConfigurations('vmop', {
        kind: 'service',
        namespace: v.namespace,
        name: IN_CLUSTER.webhookService,
        port: IN_CLUSTER.webhookServicePort,
      }) as unknown as KubeObject[],
    },
  ];
}

/** Path under charts/vmop → text: the Helm chart of the same objects. */
export function renderChartFiles(): Map<string, string> {
  return renderChart({
    objects: installObjects,
    crds: renderCRDs(),
    image: IN_CLUSTER.image,
    version: '0.1.0',
  });
}

/** Path under config/ → YAML text, for every generated manifest. */
export function renderManifests(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, text] of renderCRDs()) files.set(path.join('crd', name), text);
  for (const [name, text] of renderCRDs(true)) files.set(path.join('crd-contract', name), text);
  const hooks = webhookConfigurations('vmop', {
    kind: 'service',
    namespace: IN_CLUSTER.namespace,
    name: IN_CLUSTER.webhookService,
    port: IN_CLUSTER.webhookServicePort,
  });
  files.set(
    path.join('webhook', 'manifests.yaml'),
    GENERATED_HEADER +
      '# No caBundle here: the manager (--webhook-cert-secret) issues its serving certificate and sets the caBundle\n' +
      '# of both configurations to its CA, and keeps it current when it renews either.\n' +
      hooks.map((h) => YAML.stringify(h, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'),
  );
  files.set(
    path.join('manager', 'manager.yaml'),
    GENERATED_HEADER +
      `# The manager: 2 replicas with leader election, its webhook Service and a PodDisruptionBudget. The serving\n` +
      `# certificate is the manager's own: it creates and renews it in Secret ${WEBHOOK_CERT_SECRET} (CA and serving pair).\n` +
      `# ConfigMap ${NETWORK_CONFIGMAP}: global DNS and the default network's DHCP modes for status.network.config —\n` +
      `# nameservers, searchDomains (space- or comma-separated), dhcp4, dhcp6 ("true"/"false"; empty: DHCP4 for\n` +
      `# interfaces with no static address source, no DHCP6). Edit it in place; the manager follows changes.\n` +
      managerObjects({
        namespace: IN_CLUSTER.namespace,
        image: IN_CLUSTER.image,
        webhookService: IN_CLUSTER.webhookService,
        webhookServicePort: IN_CLUSTER.webhookServicePort,
      })
        .map((o) => YAML.stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }))
        .join('---\n'),
  );
  files.set(path.join('grafana', 'vmop-dashboard.json'), JSON.stringify(dashboard(), null, 2) + '\n');
  const why = [
    ...CLUSTER_RULES.map((r) => ['ClusterRole', r] as const),
    ...NAMESPACE_RULES.map((r) => ['Role', r] as const),
  ]
    .map(
      ([kind, r]) =>
        `#   ${kind} ${r.apiGroups.map((g) => g || 'core').join(',')} ${r.resources.join(',')}${r.resourceNames ? ` (${r.resourceNames.join(',')})` : ''} [${r.verbs.join(',')}]: ${r.why}`,
    )
    .join('\n');
  files.set(
    path.join('rbac', 'rbac.yaml'),
    GENERATED_HEADER +
      `# The manager's ServiceAccount and least-privilege roles. Why each rule exists:\n${why}\n` +
      rbacObjects(IN_CLUSTER.namespace)
        .map((o) => YAML.stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }))
        .join('---\n'),
  );
  return files;
}

/** Paths (under `dir`) whose content differs from what the code generates now, or that are missing. */
export async function staleManifests(dir: string, files = renderManifests()): Promise<string[]> {
  const stale: string[] = [];
  for (const [name, text] of files) {
    const onDisk = await readFile(path.join(dir, name), 'utf8').catch(() => undefined);
    if (onDisk !== text) stale.push(name);
  }
  return stale;
}

export async function writeManifests(dir: string, files = renderManifests()): Promise<string[]> {
  const written: string[] = [];
  for (const [name, text] of files) {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    written.push(file);
  }
  return written;
}

export async function manifestsCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['write', 'check'], strings: ['served-versions'] }, 'manifests');
  const served = stringFlag(args, 'served-versions');
  if (served !== undefined) {
    // Only the CRDs, with the versions left out unserved (and still listed for what is stored in them).
    const crds = customResourceDefinitions(undefined, parseServedVersions(served, '--served-versions'));
    process.stdout.write(crds.map((c) => YAML.stringify(c, { lineWidth: 0 })).join('---\n'));
    return 0;
  }
  if (args.flags.has('write')) {
    for (const file of [
      ...(await writeManifests(CONFIG_DIR())),
      ...(await writeManifests(CHART_DIR(), renderChartFiles())),
    ])
      process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    return 0;
  }
  if (args.flags.has('check')) {
    const stale = [
      ...(await staleManifests(CONFIG_DIR())).map((f) => path.join('config', f)),
      ...(await staleManifests(CHART_DIR(), renderChartFiles())).map((f) => path.join('charts', 'vmop', f)),
    ];
    if (stale.length === 0) return 0;
    process.stderr.write(`stale generated files: ${stale.join(', ')}; run \`npm run manifests\` and commit\n`);
    return 1;
  }
  process.stdout.write([...renderManifests().values()].join('---\n'));
  return 0;
}
