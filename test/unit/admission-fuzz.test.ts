// Property-based: 10,000+ random and mutated AdmissionReviews thrown at the admission handlers. Every answer
// is a well-formed AdmissionReview for the same uid (or a 400 for a body that is not one), nothing throws,
// and every mutation patch applies to the submitted object and yields exactly the mutated object.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createHandlers, PATHS } from '../../src/webhooks/handlers.js';
import { handleBody } from '../../src/webhooks/server.js';
import { mutateVirtualMachine } from '../../src/webhooks/virtualmachine/mutate.js';
import { applyPatch } from '../support/json-patch-apply.js';

const handlers = createHandlers({
  privilegedUsers: ['alice'],
  serviceAccount: 'system:serviceaccount:vmop-system:vmop',
});
const fixedNow = new Date('2026-11-26T00:00:00.000Z');
const vmHandlers = createHandlers({ privilegedUsers: [], now: () => fixedNow });

const word = fc.constantFrom(
  'PoweredOn',
  'poweredoff',
  'Suspended',
  'suspended',
  'Hard',
  'soft',
  'TRYSOFT',
  'now',
  'NOW',
  '',
  'eth0',
  'eth1',
  '10.0.0.1/24',
  '2001:db8::1/64',
  '10.0.0.1',
  'default',
  'None',
  'my-vm',
  'a.b',
  'x'.repeat(70),
  '✓',
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  word,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
);

const iface = fc.record(
  {
    name: word,
    addresses: fc.array(word, { maxLength: 3 }),
    dhcp4: fc.boolean(),
    gateway4: word,
    mtu: fc.integer({ min: -10, max: 10_000 }),
    nameservers: fc.array(word, { maxLength: 2 }),
    routes: fc.array(fc.record({ to: word, via: word }), { maxLength: 2 }),
  },
  { requiredKeys: ['name'] },
);

const vmSpec = fc.record(
  {
    className: word,
    imageName: word,
    powerState: word,
    powerOffMode: word,
    restartMode: word,
    nextRestartTime: word,
    instanceUUID: fc.oneof(fc.uuid(), word),
    biosUUID: fc.oneof(fc.uuid(), word),
    guestID: word,
    network: fc.record(
      {
        disabled: fc.boolean(),
        hostName: word,
        interfaces: fc.array(iface, { maxLength: 3 }),
        nameservers: fc.array(word),
      },
      { requiredKeys: [] },
    ),
    bootstrap: fc.record(
      {
        cloudInit: fc.record({ cloudConfig: fc.constant({}), instanceID: word }, { requiredKeys: [] }),
        linuxPrep: fc.constant({}),
        sysprep: fc.record({ sysprep: fc.constant({}) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
    volumes: fc.array(
      fc.record(
        { name: word, persistentVolumeClaim: fc.record({ claimName: word }, { requiredKeys: [] }) },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

/** A VM-like object, then damaged: a field replaced by an arbitrary value or removed. */
const vmObject = fc
  .tuple(
    vmSpec,
    fc.option(fc.record({ powerState: word, uniqueID: word }, { requiredKeys: [] })),
    fc.array(fc.tuple(fc.constantFrom('spec', 'metadata', 'status', 'spec.network', 'spec.bootstrap'), value), {
      maxLength: 2,
    }),
  )
  .map(([spec, status, damage]) => {
    const obj: Record<string, unknown> = {
      apiVersion: 'vmoperator.vmware.com/v1alpha3',
      kind: 'VirtualMachine',
      metadata: { name: 'vm', namespace: 'ns' },
      spec,
    };
    if (status) obj.status = status;
    for (const [where, v] of damage) {
      if (where === 'spec.network') (spec as Record<string, unknown>).network = v;
      else if (where === 'spec.bootstrap') (spec as Record<string, unknown>).bootstrap = v;
      else obj[where] = v;
    }
    return obj;
  });

const review = fc.record({
  uid: fc.oneof({ weight: 19, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.constant('') }),
  operation: fc.oneof(
    { weight: 18, arbitrary: fc.constantFrom('CREATE', 'UPDATE') },
    { weight: 2, arbitrary: fc.constantFrom('DELETE', 'CONNECT', 'PATCH') },
  ),
  kind: fc.oneof(
    { weight: 8, arbitrary: fc.constant('VirtualMachine') },
    fc.constantFrom('VirtualMachineClass', 'Pod'),
  ),
  user: fc.record({
    username: fc.constantFrom('alice', 'bob', 'system:serviceaccount:vmop-system:vmop', ''),
    groups: fc.constantFrom([], ['system:masters'], ['vmop:users']),
  }),
  object: fc.oneof({ weight: 4, arbitrary: vmObject }, { weight: 1, arbitrary: value }),
  oldObject: fc.oneof(vmObject, value, fc.constant(undefined)),
  path: fc.constantFrom(...Object.values(PATHS)),
});

type Review = {
  apiVersion: string;
  kind: string;
  response: {
    uid: string;
    allowed: boolean;
    patch?: string;
    patchType?: string;
    status?: { code: number; message: string };
  };
};

describe('admission handlers under random input', () => {
  it('answers 10,000 random and damaged AdmissionReviews with well-formed responses', async () => {
    let answered = 0;
    let patched = 0;
    await fc.assert(
      fc.asyncProperty(review, async (r) => {
        const body = {
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: {
            uid: r.uid,
            operation: r.operation,
            kind: { group: 'vmoperator.vmware.com', version: 'v1alpha3', kind: r.kind },
            userInfo: r.user,
            object: r.object,
            oldObject: r.oldObject,
          },
        };
        const handler = handlers[r.path];
        assert.ok(handler);
        const out = await handleBody(Buffer.from(JSON.stringify(body)), handler);
        if (r.uid === '' || !['CREATE', 'UPDATE', 'DELETE', 'CONNECT'].includes(r.operation)) {
          assert.equal(out.status, 400);
          return;
        }
        assert.equal(out.status, 200);
        const parsed = JSON.parse(out.body) as Review;
        assert.equal(parsed.kind, 'AdmissionReview');
        assert.equal(parsed.response.uid, r.uid);
        assert.equal(typeof parsed.response.allowed, 'boolean');
        if (!parsed.response.allowed) {
          assert.ok(
            parsed.response.status && parsed.response.status.code >= 400 && parsed.response.status.message.length > 0,
          );
          assert.notEqual(parsed.response.status.code, 500, parsed.response.status.message);
        }
        if (parsed.response.patch) {
          assert.equal(parsed.response.patchType, 'JSONPatch');
          const ops = JSON.parse(Buffer.from(parsed.response.patch, 'base64').toString()) as {
            op: string;
            path: string;
          }[];
          applyPatch(r.object, ops);
          patched++;
        }
        answered++;
      }),
      { numRuns: 10_000 },
    );
    assert.ok(answered > 7000, `only ${answered} reviews were well-formed`);
    assert.ok(patched > 300, `only ${patched} reviews produced a patch`);
  });

  it('each mutation patch turns the submitted VM into exactly the mutated VM', async () => {
    await fc.assert(
      fc.asyncProperty(vmObject, fc.option(vmObject), fc.boolean(), async (object, oldObject, privileged) => {
        const operation = oldObject ? 'UPDATE' : 'CREATE';
        const body = {
          kind: 'AdmissionReview',
          request: {
            uid: 'u',
            operation,
            userInfo: privileged ? { groups: ['system:masters'] } : { username: 'bob' },
            object,
            oldObject: oldObject ?? undefined,
          },
        };
        const handler = vmHandlers[PATHS.mutateVirtualMachine];
        assert.ok(handler);
        const parsed = JSON.parse((await handleBody(Buffer.from(JSON.stringify(body)), handler)).body) as Review;
        const expected = mutateVirtualMachine({
          operation,
          object,
          oldObject: oldObject ?? undefined,
          privileged,
          now: () => fixedNow,
        });
        if ('errors' in expected) {
          assert.equal(parsed.response.allowed, false);
          return;
        }
        assert.equal(parsed.response.allowed, true);
        const ops = parsed.response.patch
          ? (JSON.parse(Buffer.from(parsed.response.patch, 'base64').toString()) as { op: string; path: string }[])
          : [];
        const result = applyPatch(object, ops) as Record<string, { instanceUUID?: string; biosUUID?: string }>;
        const want = expected.object as Record<string, { instanceUUID?: string; biosUUID?: string }>;
        // Random UUIDs differ between the two runs; everything else must match.
        for (const o of [result, want]) {
          if (o.spec && typeof o.spec === 'object') {
            if (operation === 'CREATE') o.spec = { ...o.spec, instanceUUID: 'x', biosUUID: 'x' };
          }
        }
        assert.deepEqual(stripInstanceID(result), stripInstanceID(want));
      }),
      { numRuns: 2_000 },
    );
  });

  it('answers bodies that are not AdmissionReviews with 400 and a reason', async () => {
    const handler = handlers[PATHS.validateVirtualMachine];
    assert.ok(handler);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
          fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
        ),
        async (buf) => {
          const out = await handleBody(buf, handler);
          assert.ok(out.status === 400 || out.status === 200);
          if (out.status === 400) assert.match(JSON.parse(out.body).error as string, /AdmissionReview/);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

/** Cloud-Init's default instance ID is the random BIOS UUID; compare the rest. */
function stripInstanceID(o: Record<string, unknown>): unknown {
  const copy = structuredClone(o) as { spec?: { bootstrap?: { cloudInit?: { instanceID?: unknown } } } };
  const ci = copy.spec?.bootstrap?.cloudInit;
  if (ci && typeof ci === 'object' && typeof ci.instanceID === 'string' && /^[0-9a-f-]{36}$/.test(ci.instanceID))
    ci.instanceID = 'x';
  return copy;
}
