// src/api/schema.ts: the runtime check agrees with the API server's structural validation (same table of
// cases), and the emitted openAPIV3Schema stays structural.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { QUANTITY_PATTERN, s, validate, type JSONSchemaProps } from '../../src/api/schema.js';
import { VirtualMachineSpec } from '../../src/api/v1alpha3/virtualmachine.js';
import { VirtualMachineClassSpec } from '../../src/api/v1alpha3/virtualmachineclass.js';
import { customResourceDefinitions } from '../../src/crd/definitions.js';
import { SCHEMA_CASES } from '../support/schema-cases.js';

describe('schema runtime validation', () => {
  for (const row of SCHEMA_CASES) {
    it(`${row.name} (field ${row.field})`, () => {
      const schema = row.kind === 'VirtualMachine' ? VirtualMachineSpec : VirtualMachineClassSpec;
      const errors = validate(schema, row.spec, 'spec');
      assert.ok(
        errors.some((e) => e.field === row.field),
        `expected an error on ${row.field}, got ${JSON.stringify(errors)}`,
      );
    });
  }

  it('accepts the spec’s example class and VM', () => {
    assert.deepEqual(
      validate(
        VirtualMachineClassSpec,
        {
          configSpec: { _typeName: 'VirtualMachineConfigSpec' },
          hardware: { cpus: 2, memory: '4Gi' },
        },
        'spec',
      ),
      [],
    );
    assert.deepEqual(
      validate(
        VirtualMachineSpec,
        {
          className: 'my-vm-class',
          imageName: 'vmi-0a0044d7c690bcbea',
          storageClass: 'my-storage-class',
          network: { interfaces: [{ name: 'eth0' }, { name: 'eth1' }] },
        },
        'spec',
      ),
      [],
    );
  });

  it('names a missing required field as Required', () => {
    const schema = s.object({ name: s.string(), note: s.optional(s.string()) });
    assert.deepEqual(validate(schema, {}, 'x'), [{ field: 'x.name', type: 'Required', detail: 'Required value' }]);
  });

  it('accepts every quantity the Kubernetes grammar allows and rejects garbage', () => {
    const q = new RegExp(QUANTITY_PATTERN);
    fc.assert(
      fc.property(
        fc.nat({ max: 1_000_000 }),
        fc.constantFrom('', 'Ki', 'Mi', 'Gi', 'Ti', 'm', 'k', 'M', 'G', 'e3', 'E-2'),
        (n, suffix) => q.test(`${n}${suffix}`),
      ),
    );
    for (const bad of ['4 GB', 'Gi', '1.2.3', '--1', '4gib']) assert.equal(q.test(bad), false, bad);
  });

  it('never throws on arbitrary JSON and reports only well-formed errors', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const e of validate(VirtualMachineSpec, value, 'spec')) {
          assert.ok(e.field.startsWith('spec'));
          assert.ok(e.detail.length > 0);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

function walk(schema: JSONSchemaProps, path: string, visit: (s: JSONSchemaProps, path: string) => void): void {
  visit(schema, path);
  for (const [k, v] of Object.entries(schema.properties ?? {})) walk(v, `${path}.${k}`, visit);
  if (schema.items) walk(schema.items, `${path}[]`, visit);
  if (typeof schema.additionalProperties === 'object') walk(schema.additionalProperties, `${path}{}`, visit);
}

describe('generated openAPIV3Schema', () => {
  for (const crd of customResourceDefinitions()) {
    it(`${crd.metadata.name} is structural: every node typed, no $ref/const/nullable unions`, () => {
      const root = crd.spec.versions[0]?.schema.openAPIV3Schema;
      assert.ok(root);
      walk(root, 'root', (node, path) => {
        const text = JSON.stringify(Object.keys(node));
        assert.ok(!/\$ref|"const"|"nullable"|patternProperties/.test(text), `${path} uses a forbidden keyword`);
        if (node.anyOf) assert.equal(node['x-kubernetes-int-or-string'], true, `${path}: anyOf only for int-or-string`);
        const typed =
          node.type !== undefined ||
          node['x-kubernetes-int-or-string'] === true ||
          node['x-kubernetes-preserve-unknown-fields'] === true;
        assert.ok(typed, `${path} has no type`);
      });
    });
  }
});
