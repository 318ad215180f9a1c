// The Helm chart renders, with its default values, exactly the generated install manifests but their
// Namespace (the chart does not own it): `helm template` (helm v3.22 built from Go modules like the other
// tools) against config/; `helm lint` passes; non-default values land where they should; the values schema
// refuses a mistyped value.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { CHART_DIR, CONFIG_DIR, renderChartFiles, staleManifests } from '../../src/cli/manifests.js';
import { ensureTool } from '../../src/devenv/toolchain.js';
import { sameJSON } from '../../src/runtime/status.js';

const run = promisify(execFile);

function docs(text: string): unknown[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJSON() as unknown)
    .filter((d) => d !== null);
}

/** `helm template vmop charts/vmop ARGS`, parsed into its documents. */
async function render(...args: string[]): Promise<unknown[]> {
  const helm = await ensureTool('helm', (line) => console.log(`helm: ${line}`));
  const { stdout } = await run(helm, ['template', 'vmop', CHART_DIR(), ...args], { maxBuffer: 64 * 1024 * 1024 });
  return docs(stdout);
}

describe('Helm chart', () => {
  it('charts/vmop is up to date with src/ (run `npm run manifests` if this fails)', async () => {
    assert.deepEqual(await staleManifests(CHART_DIR(), renderChartFiles()), []);
  });

  it('helm template with the default values equals the generated manifests', { timeout: 600_000 }, async () => {
    const rendered = await render('--include-crds', '-n', 'vmop-system');
    const expected: unknown[] = [];
    for (const sub of ['crd', 'rbac', 'manager', 'webhook']) {
      for (const f of (await readdir(path.join(CONFIG_DIR(), sub))).sort())
        expected.push(...docs(await readFile(path.join(CONFIG_DIR(), sub, f), 'utf8')));
    }
    // helm uninstall must not delete the namespace (and the user's Secrets in it) with the release.
    assert.ok(!rendered.some((d) => (d as { kind: string }).kind === 'Namespace'), 'the chart renders no Namespace');
    expected.splice(0, expected.length, ...expected.filter((d) => (d as { kind: string }).kind !== 'Namespace'));
    const key = (d: unknown) => {
      const o = d as { kind: string; metadata: { name: string; namespace?: string } };
      return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    };
    assert.deepEqual(rendered.map(key).sort(), expected.map(key).sort());
    const byKey = new Map(expected.map((d) => [key(d), d]));
    const differ = rendered.filter((d) => !sameJSON(d, byKey.get(key(d)))).map(key);
    assert.deepEqual(differ, []);
  });

  it('passes helm lint, and puts non-default values where they belong', { timeout: 600_000 }, async () => {
    const helm = await ensureTool('helm');
    const lint = await run(helm, ['lint', CHART_DIR(), '--strict']);
    assert.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    const rendered = await render(
      '-n',
      'ops',
      '--set',
      'image.repository=registry.example.com/vmop,image.tag=1.2.3,image.pullPolicy=Always,replicas=3,logLevel=debug',
      '--set',
      'nodeSelector.disk=ssd,extraArgs[0]=--vm-concurrency=16,extraEnv[0].name=HTTPS_PROXY,extraEnv[0].value=http://proxy:3128',
      '--set-json',
      'tolerations=[{"key":"infra","operator":"Exists"}]',
      '--set-json',
      'resources={"limits":{"memory":"1Gi"}}',
    );
    const deployment = rendered.find((d) => (d as { kind: string }).kind === 'Deployment') as {
      metadata: { namespace: string };
      spec: {
        replicas: number;
        template: {
          spec: {
            nodeSelector?: Record<string, string>;
            tolerations?: unknown[];
            affinity?: unknown;
            containers: {
              image: string;
              imagePullPolicy: string;
              args: string[];
              env: { name: string; value?: string }[];
              resources: unknown;
            }[];
          };
        };
      };
    };
    const pod = deployment.spec.template.spec;
    const [c] = pod.containers;
    assert.equal(deployment.metadata.namespace, 'ops');
    assert.equal(deployment.spec.replicas, 3);
    assert.deepEqual([c!.image, c!.imagePullPolicy], ['registry.example.com/vmop:1.2.3', 'Always']);
    assert.deepEqual(c!.args.slice(-3), ['--log-level', 'debug', '--vm-concurrency=16']);
    assert.deepEqual(c!.env.at(-1), { name: 'HTTPS_PROXY', value: 'http://proxy:3128' });
    // (Helm merges a map value into the default: the requests stay.)
    assert.deepEqual(c!.resources, { requests: { cpu: '100m', memory: '192Mi' }, limits: { memory: '1Gi' } });
    assert.deepEqual(pod.nodeSelector, { disk: 'ssd' });
    assert.deepEqual(pod.tolerations, [{ key: 'infra', operator: 'Exists' }]);
    assert.ok(pod.affinity, 'the default spread stays');
    // Everything namespaced goes into the release's namespace.
    for (const d of rendered as { kind: string; metadata: { namespace?: string } }[]) {
      if (d.metadata.namespace !== undefined) assert.equal(d.metadata.namespace, 'ops', d.kind);
    }
  });

  it('ships the Grafana dashboard and the alerts when asked to', async () => {
    const rendered = await render(
      '-n',
      'monitoring-test',
      '--set',
      'grafanaDashboard.enabled=true,prometheusRule.enabled=true,prometheusRule.labels.release=kube-prometheus',
    );
    const all = rendered as { kind: string; metadata: { name: string; labels?: Record<string, string> } }[];
    const cm = all.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'vmop-dashboard') as
      { metadata: { labels: Record<string, string> }; data: Record<string, string> } | undefined;
    assert.equal(cm?.metadata.labels.grafana_dashboard, '1');
    const board = JSON.parse(cm!.data['vmop-dashboard.json']!) as {
      panels: unknown[];
      templating: { list: { name: string }[] };
    };
    assert.ok(board.panels.length >= 10);
    assert.deepEqual(
      board.templating.list.map((v) => v.name),
      ['datasource', 'namespace', 'pod'],
    );
    const rule = all.find((d) => d.kind === 'PrometheusRule') as
      | {
          metadata: { labels: Record<string, string> };
          spec: { groups: { rules: { alert: string; annotations: { summary: string } }[] }[] };
        }
      | undefined;
    assert.equal(rule?.metadata.labels.release, 'kube-prometheus');
    const rules = rule!.spec.groups[0]!.rules;
    assert.deepEqual(
      rules.map((r) => r.alert),
      ['VmopWebhookCertificateExpiring', 'VmopReconcileErrorsRising', 'VmopVCenterUnreachable', 'VmopNoLeader'],
    );
    // Prometheus' own templates reach it untouched by Helm.
    assert.match(rules[1]!.annotations.summary, /\{\{ \$labels\.controller \}\}/);
    // Off by default: the default render is the plain manifests.
    const plain = (await render()) as { kind: string }[];
    assert.ok(!plain.some((d) => d.kind === 'PrometheusRule'));
  });

  it('serves secure metrics and ships a ServiceMonitor for them when asked to', async () => {
    const rendered = await render(
      '--set',
      'metrics.secure.enabled=true,metrics.secure.port=9443,serviceMonitor.enabled=true,serviceMonitor.labels.release=kp',
    );
    const all = rendered as { kind: string; metadata: { name: string; labels?: Record<string, string> } }[];
    const dep = all.find((d) => d.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    assert.deepEqual(dep.spec.template.spec.containers[0]!.args.slice(-2), ['--metrics-secure-addr', '0.0.0.0:9443']);
    const svc = all.find((d) => d.kind === 'Service' && d.metadata.name === 'vmop-metrics') as unknown as {
      spec: { ports: { port: number; targetPort: number }[] };
    };
    assert.deepEqual(svc.spec.ports[0], { name: 'metrics', port: 9443, targetPort: 9443 });
    const monitor = all.find((d) => d.kind === 'ServiceMonitor') as unknown as {
      metadata: { labels: Record<string, string> };
      spec: { endpoints: { scheme?: string; bearerTokenFile?: string; interval: string }[] };
    };
    assert.equal(monitor.metadata.labels.release, 'kp');
    assert.deepEqual([monitor.spec.endpoints[0]!.scheme, monitor.spec.endpoints[0]!.interval], ['https', '30s']);
    assert.match(String(monitor.spec.endpoints[0]!.bearerTokenFile), /serviceaccount\/token$/);
  });

  it('makes the provider configuration and credentials from values, and a NetworkPolicy when asked to', async () => {
    const rendered = await render(
      '--set',
      'vcenter.url=https://vc.example.com,vcenter.username=svc,vcenter.password=s3cret,vcenter.zones.zone-a.cluster=C0',
      '--set',
      'vcenter.contentLibraries.cluster=images,networkPolicy.enabled=true',
    );
    const all = rendered as { kind: string; metadata: { name: string }; data?: Record<string, string> }[];
    const config = all.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'vmop-provider-config');
    assert.equal(config?.data?.vcenter, 'https://vc.example.com');
    assert.equal(config?.data?.credentialsSecret, 'vmop-vcenter-credentials');
    assert.deepEqual(YAML.parse(config!.data!.zones!), { 'zone-a': { cluster: 'C0' } });
    const secret = all.find((d) => d.kind === 'Secret' && d.metadata.name === 'vmop-vcenter-credentials') as
      { stringData: Record<string, string> } | undefined;
    assert.deepEqual(secret?.stringData, { username: 'svc', password: 's3cret' });
    assert.deepEqual(all.find((d) => d.metadata.name === 'vmop-content-libraries')?.data, { cluster: 'images' });
    assert.ok(all.some((d) => d.kind === 'NetworkPolicy'));
    // With an existing Secret the chart makes none, and names it in the configuration.
    const existing = (await render(
      '--set',
      'vcenter.url=https://vc.example.com,vcenter.existingSecret=mine,vcenter.username=x',
    )) as { kind: string; metadata: { name: string }; data?: Record<string, string> }[];
    assert.ok(!existing.some((d) => d.kind === 'Secret' && d.metadata.name === 'vmop-vcenter-credentials'));
    assert.equal(existing.find((d) => d.metadata.name === 'vmop-provider-config')?.data?.credentialsSecret, 'mine');
  });

  it('takes the webhook certificate from cert-manager when asked to', async () => {
    const rendered = await render('-n', 'ops', '--set', 'certManager.enabled=true');
    const all = rendered as {
      kind: string;
      metadata: { name: string; annotations?: Record<string, string> };
      spec?: Record<string, unknown>;
    }[];
    const pod = (
      all.find((d) => d.kind === 'Deployment')!.spec as {
        template: {
          spec: {
            volumes?: { secret?: { secretName: string } }[];
            containers: { args: string[]; volumeMounts?: { mountPath: string }[] }[];
          };
        };
      }
    ).template.spec;
    const [c] = pod.containers;
    assert.ok(c!.args.includes('--webhook-cert-dir') && !c!.args.includes('--webhook-cert-secret'), c!.args.join(' '));
    assert.equal(c!.volumeMounts?.[0]?.mountPath, c!.args[c!.args.indexOf('--webhook-cert-dir') + 1]);
    assert.equal(pod.volumes?.[0]?.secret?.secretName, 'vmop-webhook-cert-manager');
    const cert = all.find((d) => d.kind === 'Certificate') as
      { spec: { secretName: string; dnsNames: string[] } } | undefined;
    assert.equal(cert?.spec.secretName, 'vmop-webhook-cert-manager');
    assert.ok(cert?.spec.dnsNames.includes('vmop-webhook-service.ops.svc'));
    assert.ok(all.some((d) => d.kind === 'Issuer'));
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      const cfg = all.find((d) => d.kind === kind);
      assert.equal(cfg?.metadata.annotations?.['cert-manager.io/inject-ca-from'], 'ops/vmop-webhook-serving', kind);
    }
  });

  it('refuses a value of the wrong type (values.schema.json)', async () => {
    const helm = await ensureTool('helm');
    const err = await run(helm, ['template', 'vmop', CHART_DIR(), '--set', 'replicas=many']).then(
      () => undefined,
      (e: unknown) => e as { stderr: string },
    );
    assert.ok(err, 'helm accepted replicas=many');
    assert.match(err.stderr, /replicas/);
  });
});
