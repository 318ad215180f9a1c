// The generated Grafana dashboard reads only metrics that the running manager exports.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../src/devenv/toolchain.js';
import { ALERTS, metricNames } from '../../src/install/dashboard.js';
import { ground } from '../support/ground.js';
import { scrape } from '../support/metrics.js';

describe('Grafana dashboard', () => {
  it('queries only metrics the manager exports', async () => {
    const json = JSON.parse(
      await readFile(path.join(repoRoot(), 'config', 'grafana', 'vmop-dashboard.json'), 'utf8'),
    ) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const { types } = await scrape(ground().managerHealthPort);
    const exported = new Set(
      [...types].flatMap(([name, type]) =>
        type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name],
      ),
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
    // The alerts, too. (The run's manager elects no leader and serves webhooks with a certificate from files:
    // the leader gauge is checked in manager.test, the certificate expiry in the certificate rotator's tests.)
    const elsewhere = ['leader_election_master_status', 'vmop_webhook_certificate_expiry_timestamp_seconds'];
    const alertMissing = ALERTS.flatMap((a) =>
      metricNames(a.expr)
        .filter((m) => !exported.has(m) && !elsewhere.includes(m))
        .map((m) => `${a.alert}: ${m}`),
    );
    assert.deepEqual(alertMissing, []);
  });
});
