// The API server rejects structurally wrong VirtualMachines and classes with a field error naming the field
// (one case per row of test/support/schema-cases.ts), and stores nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeAPIError, type KubeClient } from '../../src/runtime/kube-client.js';
import { client, kubectl, testNamespace } from '../support/ground.js';
import { SCHEMA_CASES } from '../support/schema-cases.js';

describe('schema rejections by the API server', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await testNamespace('schema');
  });
  after(() => c.close());

  SCHEMA_CASES.forEach((row, i) => {
    it(row.name, async () => {
      const name = `case-${i}`;
      const err = await c
        .create({
          apiVersion: 'vmoperator.vmware.com/v1alpha3',
          kind: row.kind,
          metadata: { name, namespace: ns },
          spec: row.spec,
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof KubeAPIError, `expected a rejection, got ${String(err)}`);
      assert.equal(err.statusCode, 422);
      assert.equal(err.reason, 'Invalid');
      const cause = err.causes.find((c) => c.field === row.field);
      assert.ok(cause, `no cause names ${row.field}: ${JSON.stringify(err.causes)}`);
      assert.match(err.message, row.message);
      const listed = await kubectl(['get', row.kind.toLowerCase(), name, '-n', ns]);
      assert.notEqual(listed.code, 0, 'the rejected object must not be stored');
    });
  });

  it('kubectl apply reports the field and the rule to the user', async () => {
    const doc = [
      'apiVersion: vmoperator.vmware.com/v1alpha3',
      'kind: VirtualMachine',
      'metadata:',
      '  name: bad-power',
      `  namespace: ${ns}`,
      'spec:',
      '  className: my-vm-class',
      '  imageName: vmi-0a0044d7c690bcbea',
      '  powerState: Sideways',
    ].join('\n');
    const r = await kubectl(['apply', '-f', '-'], { input: doc });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /spec\.powerState: Unsupported value: "Sideways": supported values: "PoweredOff", "PoweredOn", "Suspended"/,
    );
  });
});
