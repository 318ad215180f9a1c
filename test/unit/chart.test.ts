// The Helm chart renders, with its default values, exactly the generated install manifests: `helm template`
// (helm v3.22 built from Go modules like the other tools) against config/.
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

describe('Helm chart', () => {
  it('charts/vmop is up to date with src/ (run `npm run manifests` if this fails)', async () => {
    assert.deepEqual(await staleManifests(CHART_DIR(), renderChartFiles()), []);
  });

  it('helm template with the default values equals the generated manifests', { timeout: 600_000 }, async () => {
    const helm = await ensureTool('helm', (line) => console.log(`helm: ${line}`));
    const { stdout } = await run(helm, ['template', 'vmop', CHART_DIR(), '--include-crds'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const rendered = docs(stdout);
    const expected: unknown[] = [];
    for (const sub of ['crd', 'rbac', 'manager', 'webhook']) {
      for (const f of (await readdir(path.join(CONFIG_DIR(), sub))).sort())
        expected.push(...docs(await readFile(path.join(CONFIG_DIR(), sub, f), 'utf8')));
    }
    const key = (d: unknown) => {
      const o = d as { kind: string; metadata: { name: string; namespace?: string } };
      return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    };
    assert.deepEqual(rendered.map(key).sort(), expected.map(key).sort());
    const byKey = new Map(expected.map((d) => [key(d), d]));
    const differ = rendered.filter((d) => !sameJSON(d, byKey.get(key(d)))).map(key);
    assert.deepEqual(differ, []);
  });

  it('takes the namespace, image and replicas from values', async () => {
    const helm = await ensureTool('helm');
    const { stdout } = await run(helm, [
      'template',
      'vmop',
      CHART_DIR(),
      '--set',
      'namespace=ops,image=registry.example.com/vmop:1.2.3,replicas=3',
    ]);
    const deployment = docs(stdout).find((d) => (d as { kind: string }).kind === 'Deployment') as {
      metadata: { namespace: string };
      spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
    };
    assert.equal(deployment.metadata.namespace, 'ops');
    assert.equal(deployment.spec.replicas, 3);
    assert.equal(deployment.spec.template.spec.containers[0]!.image, 'registry.example.com/vmop:1.2.3');
  });
});
