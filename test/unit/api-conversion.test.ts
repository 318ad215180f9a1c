// Property-based: random objects of every served version of every kind, generated from the versions' own
// schemas, survive conversion both ways: A → hub → A and A → B → A are identities, and the conversion
// annotation is set only when the target version cannot hold everything.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CONVERSION_ANNOTATION } from '../../src/api/conversion.js';
import type { JSONSchemaProps } from '../../src/api/schema.js';
import { GROUP } from '../../src/api/v1alpha3/common.js';
import {
  converterFor,
  HUB_VERSION,
  KIND_VERSIONS,
  SERVED_VERSIONS,
  VERSIONED_KINDS,
  type ServedVersion,
  type VersionedKind,
} from '../../src/api/versions.js';

const RUNS = 2000;

/** Values of a schema: every property optional, lists short, keyed lists with unique keys. */
function arbitrary(schema: JSONSchemaProps, depth = 0): fc.Arbitrary<unknown> {
  if (schema['x-kubernetes-preserve-unknown-fields'] || (schema.type === undefined && !schema.properties)) {
    return fc.dictionary(fc.constantFrom('a', 'b', '_typeName'), fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), {
      maxKeys: 2,
    });
  }
  if (schema['x-kubernetes-int-or-string'])
    return fc.oneof(fc.integer({ min: 0, max: 99 }), fc.constantFrom('1Gi', '500m'));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'string':
      return fc.constantFrom('a', 'eth0', 'vm-1', '', 'x y');
    case 'integer':
      return fc.integer({ min: 0, max: 1000 });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      if (!schema.items || depth > 8) return fc.constant([]);
      const item = arbitrary(schema.items, depth + 1);
      const keys = schema['x-kubernetes-list-map-keys'];
      if (!keys) return fc.array(item, { maxLength: 2 });
      const keyed = item.map((v) => {
        const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
        return o;
      });
      return fc.uniqueArray(keyed, { maxLength: 3, selector: (o) => JSON.stringify(keys.map((k) => o[k])) });
    }
    default: {
      if (!schema.properties || depth > 8) return fc.constant({});
      const props = Object.fromEntries(
        Object.entries(schema.properties).map(([k, p]) => [k, arbitrary(p, depth + 1)] as const),
      );
      const required = schema.required ?? [];
      return fc.record(props, { requiredKeys: required.filter((k) => k in props) });
    }
  }
}

function objectOf(kind: VersionedKind, version: ServedVersion): fc.Arbitrary<Record<string, unknown>> {
  const v = KIND_VERSIONS[kind][version];
  return fc
    .record({ spec: arbitrary(v.spec.toOpenAPI()), status: arbitrary(v.status.toOpenAPI()) }, { requiredKeys: [] })
    .map((body) => ({
      apiVersion: `${GROUP}/${version}`,
      kind,
      metadata: { name: 'x', namespace: 'ns', annotations: { keep: 'me' } },
      // (As JSON from the API server: plain objects.)
      ...(JSON.parse(JSON.stringify(body)) as object),
    }));
}

describe('API version conversion', () => {
  for (const kind of VERSIONED_KINDS) {
    const c = converterFor(kind);
    for (const a of SERVED_VERSIONS) {
      it(`${kind} ${a} → hub → ${a} is the identity, with no annotation`, () => {
        fc.assert(
          fc.property(objectOf(kind, a), (obj) => {
            const hub = c.toHub(obj);
            assert.equal(hub.apiVersion, `${GROUP}/${HUB_VERSION}`);
            assert.deepEqual(c.fromHub(hub, a), obj);
          }),
          { numRuns: RUNS },
        );
      });
      for (const b of SERVED_VERSIONS) {
        if (a === b) continue;
        it(`${kind} ${a} → ${b} → ${a} is the identity`, () => {
          fc.assert(
            fc.property(objectOf(kind, a), (obj) => {
              const there = c.convert(obj, `${GROUP}/${b}`);
              assert.equal(there.apiVersion, `${GROUP}/${b}`);
              assert.deepEqual(c.convert(there, `${GROUP}/${a}`), obj);
            }),
            { numRuns: RUNS },
          );
        });
      }
    }
  }

  it('keeps a v1alpha6-only field through a v1alpha3 update that changes another field', () => {
    const c = converterFor('VirtualMachine');
    const v6 = {
      apiVersion: `${GROUP}/v1alpha6`,
      kind: 'VirtualMachine',
      metadata: { name: 'x' },
      spec: {
        className: 'small',
        hardware: { cdrom: [{ name: 'cd1', image: { kind: 'VirtualMachineImage', name: 'iso' }, unitNumber: 1 }] },
        cpuAdvanced: { hotAddEnabled: true },
        volumes: [{ name: 'a', diskMode: 'Persistent' }, { name: 'b' }],
      },
      status: { nodeName: 'esx1', storage: { total: '1Gi' } },
    };
    const v3 = c.convert(v6, `${GROUP}/v1alpha3`) as {
      metadata: { annotations: Record<string, string> };
      spec: Record<string, unknown>;
      status: Record<string, unknown>;
    };
    assert.deepEqual(v3.spec.cdrom, [{ name: 'cd1', image: { kind: 'VirtualMachineImage', name: 'iso' } }]);
    assert.equal(v3.spec.cpuAdvanced, undefined);
    assert.deepEqual(v3.status, { host: 'esx1', storage: { usage: { total: '1Gi' } } });
    assert.ok(v3.metadata.annotations[CONVERSION_ANNOTATION]);
    // The older client renames the class, drops volume b and keeps the rest: the hub gets both the change and
    // every field only it can hold (for the items still there).
    const updated = { ...v3, spec: { ...v3.spec, className: 'large', volumes: [{ name: 'a' }] } };
    const back = c.toHub(updated) as { metadata: { annotations?: unknown }; spec: Record<string, unknown> };
    assert.equal(back.spec.className, 'large');
    assert.deepEqual(back.spec.cpuAdvanced, { hotAddEnabled: true });
    assert.deepEqual(back.spec.volumes, [{ name: 'a', diskMode: 'Persistent' }]);
    assert.deepEqual(back.spec.hardware, v6.spec.hardware);
    assert.equal(back.metadata.annotations, undefined);
  });

  it('renames each image disk’s limit and requested to v1alpha3’s capacity and size, keeping the rest', () => {
    const c = converterFor('ClusterVirtualMachineImage');
    const hub = {
      apiVersion: `${GROUP}/v1alpha6`,
      kind: 'ClusterVirtualMachineImage',
      metadata: { name: 'vmi-1' },
      status: { disks: [{ name: 'disk-0', limit: '16Gi', requested: '2Gi', unitNumber: 0 }, { limit: '1Gi' }] },
    };
    const v3 = c.convert(hub, `${GROUP}/v1alpha3`) as { status: unknown };
    assert.deepEqual(v3.status, { disks: [{ capacity: '16Gi', size: '2Gi' }, { capacity: '1Gi' }] });
    assert.deepEqual(c.convert(v3 as Record<string, unknown>, `${GROUP}/v1alpha6`), hub);
    // A client that drops the disks drops them: their names are not put back into a list made up for them.
    const dropped = c.toHub({ ...(v3 as Record<string, unknown>), status: {} }) as { status: unknown };
    assert.deepEqual(dropped.status, {});
  });

  it('ignores an annotation it did not write, and never touches Object.prototype', () => {
    const c = converterFor('VirtualMachine');
    const hostile = [
      '{',
      '[1]',
      JSON.stringify([{ p: ['__proto__', 'polluted'], v: true }]),
      JSON.stringify([{ p: ['spec', '__proto__', 'polluted'], v: true }]),
      JSON.stringify([{ p: ['metadata', 'name'], v: 'other' }]),
      '['.repeat(100_000),
    ];
    for (const annotation of hostile) {
      const obj = {
        apiVersion: `${GROUP}/v1alpha3`,
        kind: 'VirtualMachine',
        metadata: { name: 'x', annotations: { [CONVERSION_ANNOTATION]: annotation } },
        spec: { className: 'small' },
      };
      const hub = c.toHub(obj) as { metadata: { name: string; annotations?: unknown }; spec: unknown };
      assert.deepEqual(hub.spec, { className: 'small' });
      assert.equal(hub.metadata.name, 'x');
      assert.equal(hub.metadata.annotations, undefined);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    }
  });

  it('refuses a version it does not serve', () => {
    const c = converterFor('VirtualMachine');
    assert.throws(() => c.convert({ apiVersion: `${GROUP}/v1alpha3`, kind: 'VirtualMachine' }, `${GROUP}/v9`), /v9/);
  });
});
