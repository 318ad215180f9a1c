// config/ must hold exactly what the code generates; `vmop manifests --check` fails when it does not.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { customResourceDefinitions, parseServedVersions } from '../../src/crd/definitions.js';
import { CONFIG_DIR, renderManifests, staleManifests } from '../../src/cli/manifests.js';
import { repoRoot } from '../../src/devenv/toolchain.js';

const run = promisify(execFile);

describe('generated manifests', () => {
  it('config/ is up to date with src/ (run `npm run manifests` if this fails)', async () => {
    assert.deepEqual(await staleManifests(CONFIG_DIR()), []);
  });

  it('detects a hand-edited CRD file and a missing one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-crd-'));
    try {
      await cp(CONFIG_DIR(), dir, { recursive: true });
      const vmFile = path.join(dir, 'crd', 'virtualmachines.vmoperator.vmware.com.yaml');
      await writeFile(
        vmFile,
        (await readFile(vmFile, 'utf8')).replace('shortNames:\n      - vm', 'shortNames:\n      - v'),
      );
      await writeFile(path.join(dir, 'webhook', 'manifests.yaml'), '');
      assert.deepEqual((await staleManifests(dir)).sort(), [
        path.join('crd', 'virtualmachines.vmoperator.vmware.com.yaml'),
        path.join('webhook', 'manifests.yaml'),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('renders one CRD per kind, each version served and the newest stored; the IPAM contract apart', () => {
    const crds = [...renderManifests().entries()].filter(([name]) => name.startsWith('crd'));
    assert.deepEqual(crds.map(([name]) => name).sort(), [
      path.join('crd-contract', 'ipaddressclaims.ipam.cluster.x-k8s.io.yaml'),
      path.join('crd-contract', 'ipaddresses.ipam.cluster.x-k8s.io.yaml'),
      path.join('crd', 'clustervirtualmachineimages.vmoperator.vmware.com.yaml'),
      path.join('crd', 'ippools.vmop.dev.yaml'),
      path.join('crd', 'networks.vmop.dev.yaml'),
      path.join('crd', 'virtualmachineclasses.vmoperator.vmware.com.yaml'),
      path.join('crd', 'virtualmachineimages.vmoperator.vmware.com.yaml'),
      path.join('crd', 'virtualmachines.vmoperator.vmware.com.yaml'),
    ]);
    for (const [name, text] of crds) {
      const crd = YAML.parse(text) as {
        spec: {
          versions: { name: string; served: boolean; storage: boolean }[];
          conversion?: { strategy: string; webhook: { clientConfig: { service: { path: string } } } };
        };
      };
      const versioned = name.includes('vmoperator');
      const stored = versioned ? 'v1alpha6' : name.includes('vmop.dev') ? 'v1alpha1' : 'v1beta1';
      assert.deepEqual(
        crd.spec.versions.map((v) => [v.name, v.served, v.storage]),
        versioned
          ? [
              ['v1alpha3', true, false],
              ['v1alpha4', true, false],
              ['v1alpha5', true, false],
              ['v1alpha6', true, true],
            ]
          : [[stored, true, true]],
        name,
      );
      // VM Operator's kinds convert through the manager's webhook Service.
      if (versioned) {
        assert.equal(crd.spec.conversion?.strategy, 'Webhook', name);
        assert.equal(crd.spec.conversion?.webhook.clientConfig.service.path, '/convert', name);
      } else assert.equal(crd.spec.conversion, undefined, name);
    }
  });

  it('renders both webhook configurations against the in-cluster Service, failing closed', () => {
    const text = renderManifests().get(path.join('webhook', 'manifests.yaml')) ?? '';
    const docs = YAML.parseAllDocuments(text).map(
      (d) =>
        d.toJS() as {
          kind: string;
          webhooks: {
            failurePolicy: string;
            sideEffects: string;
            clientConfig: { service: { name: string; path: string } };
          }[];
        },
    );
    assert.deepEqual(
      docs.map((d) => d.kind),
      ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'],
    );
    const hooks = docs.flatMap((d) => d.webhooks);
    assert.equal(hooks.length, 3);
    for (const h of hooks) {
      assert.equal(h.failurePolicy, 'Fail');
      assert.equal(h.sideEffects, 'None');
      assert.equal(h.clientConfig.service.name, 'vmop-webhook-service');
      assert.match(h.clientConfig.service.path, /^\/default-(mutate|validate)-vmoperator-vmware-com-v1alpha6-/);
    }
  });

  it('`vmop manifests --check` exits 0 on the committed files', async () => {
    const { stdout, stderr } = await run(process.execPath, [
      path.join(repoRoot(), 'bin', 'vmop.js'),
      'manifests',
      '--check',
    ]);
    assert.equal(stdout + stderr, '');
  });

  it('serves only the versions asked for, the storage version always, and keeps the others listed', () => {
    const crds = customResourceDefinitions(undefined, parseServedVersions('v1alpha5', 'test'));
    const vm = crds.find((c) => c.metadata.name === 'virtualmachines.vmoperator.vmware.com')!;
    assert.deepEqual(
      vm.spec.versions.map((v) => [v.name, v.served, v.storage]),
      [
        ['v1alpha3', false, false],
        ['v1alpha4', false, false],
        ['v1alpha5', true, false],
        ['v1alpha6', true, true],
      ],
    );
    assert.equal(vm.spec.conversion?.strategy, 'Webhook');
    assert.throws(
      () => parseServedVersions('v1alpha6,v2', '--served-versions'),
      /--served-versions: v2 is not a version/,
    );
  });
});
