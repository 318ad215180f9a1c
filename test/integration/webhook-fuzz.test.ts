// Random VirtualMachines through the real API server with the webhooks in place: each is stored or refused
// with a 4xx that names fields; never a 500, which is how the API server reports a patch it cannot apply
// or a webhook that failed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { KubeAPIError, type KubeClient } from '../../src/runtime/kube-client.js';
import { client, testNamespace } from '../support/ground.js';
import { vmObject } from '../support/vm.js';

const opt = <T>(values: T[]) => fc.constantFrom(...values);

const spec = fc.record(
  {
    powerState: opt(['PoweredOn', 'poweredOff', 'POWEREDON', 'suspended', 'bogus']),
    powerOffMode: opt(['hard', 'Soft', 'trySoft', 'gentle']),
    nextRestartTime: opt(['', 'now']),
    network: fc.record(
      {
        disabled: fc.boolean(),
        hostName: opt(['web', 'Web_1']),
        interfaces: fc.array(
          fc.record(
            {
              name: opt(['eth0', 'eth1', 'eth2']),
              addresses: fc.array(opt(['10.0.0.5/24', '2001:db8::5/64', '10.0.0.5']), { maxLength: 2 }),
              gateway4: opt(['10.0.0.1', 'None', 'bogus']),
              mtu: fc.integer({ min: 0, max: 10_000 }),
            },
            { requiredKeys: ['name'] },
          ),
          { maxLength: 3 },
        ),
      },
      { requiredKeys: [] },
    ),
    bootstrap: opt([{ cloudInit: { cloudConfig: {} } }, { linuxPrep: {} }, { cloudInit: {}, linuxPrep: {} }]),
  },
  { requiredKeys: [] },
);

describe('random VirtualMachines through the API server and webhooks', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await testNamespace('fuzz');
  });
  after(() => c.close());

  it('stores or refuses 150 random VMs, never with a server error', async () => {
    let n = 0;
    let stored = 0;
    await fc.assert(
      fc.asyncProperty(spec, async (s) => {
        const body = JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
        try {
          const vm = await c.create(vmObject(ns, `fuzz-${n++}`, body));
          const stateSpec = vm.spec as { powerState?: string };
          assert.ok(
            ['PoweredOn', 'PoweredOff'].includes(stateSpec.powerState ?? ''),
            `stored power state ${stateSpec.powerState}`,
          );
          stored++;
        } catch (err) {
          assert.ok(err instanceof KubeAPIError, String(err));
          assert.ok(err.statusCode === 422 || err.statusCode === 400, `${err.statusCode}: ${err.message}`);
          assert.ok(err.causes.length > 0 || /denied the request/.test(err.message), err.message);
        }
      }),
      { numRuns: 150 },
    );
    // About one VM in twenty is valid; the run must see both outcomes to test anything.
    assert.ok(stored >= 2 && stored <= 148, `${stored} of 150 were stored: the input should mix valid and invalid VMs`);
  });
});
