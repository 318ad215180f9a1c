// The generated Grafana dashboard reads only metrics that the running manager exports.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../src/devenv/toolchain.js';
import { metricNames } from '../../src/install/dashboard.js';
import { ground } from '../support/ground.js';

describe('Grafana dashboard', () => {
  it('queries only metrics the manager exports', async () => {
    const json = JSON.parse(
      await readFile(path.join(repoRoot(), 'config', 'grafana', 'vmop-dashboard.json'), 'utf8'),
    ) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const text = await (await fetch(`http://127.0.0.1:${ground().managerHealthPort}/metrics`)).text();
    const exported = new Set(
      text
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .flatMap((l) => {
          const [, , name, type] = l.split(' ');
          return type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!];
        }),
    );
    const missing = json.panels.flatMap((p) =>
      p.targets.flatMap((t) =>
        metricNames(t.expr)
          .filter((m) => !exported.has(m))
          .map((m) => `${p.title}: ${m}`),
      ),
    );
    assert.ok(json.panels.length >= 10);
    assert.deepEqual(missing, []);
  });
});
