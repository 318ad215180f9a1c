// The generated in-cluster manifests against the real API server: the manager's Deployment, Service,
// PodDisruptionBudget and network defaults ConfigMap pass server-side validation (dry run), the Deployment is
// locked down as promised (two replicas, leader election, probes, non-root, read-only root filesystem, no
// privilege escalation), and the ConfigMap carries its documented keys, empty.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { repoRoot } from '../../src/devenv/toolchain.js';
import type { KubeObject } from '../../src/runtime/kube-client.js';
import { kubectl } from '../support/ground.js';

interface Deployment {
  kind: string;
  spec: {
    replicas: number;
    template: {
      spec: {
        serviceAccountName: string;
        securityContext: { runAsNonRoot: boolean };
        containers: {
          args: string[];
          livenessProbe?: unknown;
          readinessProbe?: unknown;
          resources: { requests: Record<string, string>; limits: Record<string, string> };
          securityContext: {
            allowPrivilegeEscalation: boolean;
            readOnlyRootFilesystem: boolean;
            capabilities: { drop: string[] };
          };
        }[];
      };
    };
  };
}

describe('install manifests', () => {
  const file = path.join(repoRoot(), 'config', 'manager', 'manager.yaml');

  it('pass server-side validation of the real API server', async () => {
    const r = await kubectl(['apply', '--dry-run=server', '-f', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /deployment\.apps\/vmop-controller-manager (created|configured|unchanged) \(server dry run\)/,
    );
    assert.match(r.stdout, /service\/vmop-webhook-service (created|configured|unchanged) \(server dry run\)/);
    assert.match(
      r.stdout,
      /poddisruptionbudget\.policy\/vmop-controller-manager (created|configured|unchanged) \(server dry run\)/,
    );
    assert.match(r.stdout, /configmap\/vmop-network-config (created|configured|unchanged) \(server dry run\)/);
  });

  it('ship the network defaults ConfigMap with its keys, none stated', async () => {
    const docs = YAML.parseAllDocuments(await readFile(file, 'utf8')).map((d) => d.toJSON() as KubeObject);
    const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'vmop-network-config');
    assert.deepEqual((cm as { data?: unknown } | undefined)?.data, {
      nameservers: '',
      searchDomains: '',
      dhcp4: '',
      dhcp6: '',
    });
    assert.equal(cm?.metadata.namespace, 'vmop-system');
  });

  it('run two locked-down replicas with leader election and probes', async () => {
    const docs = YAML.parseAllDocuments(await readFile(file, 'utf8')).map((d) => d.toJSON() as Deployment);
    const dep = docs.find((d) => d.kind === 'Deployment')!;
    assert.equal(dep.spec.replicas, 2);
    const pod = dep.spec.template.spec;
    assert.equal(pod.serviceAccountName, 'vmop-controller-manager');
    assert.equal(pod.securityContext.runAsNonRoot, true);
    const [c] = pod.containers;
    assert.ok(c!.args.includes('--leader-elect'));
    assert.ok(c!.livenessProbe && c!.readinessProbe);
    assert.ok(c!.resources.requests.memory && c!.resources.limits.memory);
    assert.deepEqual(
      [
        c!.securityContext.allowPrivilegeEscalation,
        c!.securityContext.readOnlyRootFilesystem,
        c!.securityContext.capabilities.drop,
      ],
      [false, true, ['ALL']],
    );
  });
});
