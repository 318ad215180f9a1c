// The TrySoft fallback end to end through the controller and the real API server. vcsim's guests always
// obey a soft power-off at once, so this runs the VM controller in-process over a scripted provider whose
// guest ignores ShutdownGuest: TrySoft must issue the hard PowerOff after the (short) timeout, by requeue;
// Soft must keep waiting.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VirtualMachineController } from '../../src/controllers/virtualmachine/controller.js';
import { EventRecorder } from '../../src/runtime/events.js';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { createLogger } from '../../src/runtime/logger.js';
import { InMemoryVMs } from '../support/fake-provider.js';
import { client } from '../support/ground.js';
import { OWN_MANAGER_LABEL } from '../support/manager.js';
import { patchVM } from '../support/vm.js';
import { eventually, getVM, vm, vmName, vmNamespace, waitForPower } from '../support/vms.js';

describe('VM controller: TrySoft fallback', () => {
  let c: KubeClient;
  let ns: string;
  let provider: InMemoryVMs;
  const abort = new AbortController();
  let running: Promise<void>;

  before(async () => {
    c = client();
    ns = await vmNamespace('vm-trysoft');
    // Guests with VM Tools running that ignore a soft shutdown.
    provider = new InMemoryVMs();
    const controller = new VirtualMachineController({
      client: c,
      provider,
      events: new EventRecorder(c, 'vmop-test'),
      logger: createLogger({ level: 'silent' }),
      trySoftTimeoutMs: 1500,
      vmSelector: `${OWN_MANAGER_LABEL}=${ns}`,
    });
    running = controller.start(abort.signal);
  });
  after(async () => {
    abort.abort();
    await running;
    c.close();
  });

  it('powers off hard once the guest has not shut down within the TrySoft timeout', async () => {
    const name = vmName('stubborn');
    await c.create(vm(ns, name, {}, { [OWN_MANAGER_LABEL]: ns }));
    await waitForPower(c, ns, name, 'PoweredOn');
    provider.ops.length = 0;
    await patchVM(c, ns, name, { spec: { powerState: 'PoweredOff', powerOffMode: 'TrySoft' } });
    const obj = await waitForPower(c, ns, name, 'PoweredOff', 20_000);
    assert.deepEqual(
      provider.ops.map((o) => o.op),
      ['shutdownGuest', 'powerOff'],
    );
    const waited = provider.ops[1]!.at - provider.ops[0]!.at;
    assert.ok(waited >= 1500, `hard power off after ${waited} ms, before the 1500 ms timeout`);
    assert.ok(waited < 12_000, `hard power off only after ${waited} ms`);
    assert.equal(obj.status?.powerState, 'PoweredOff');
  });

  it('keeps waiting in Soft mode', async () => {
    const name = vmName('patient');
    await c.create(vm(ns, name, {}, { [OWN_MANAGER_LABEL]: ns }));
    await waitForPower(c, ns, name, 'PoweredOn');
    provider.ops.length = 0;
    await patchVM(c, ns, name, { spec: { powerState: 'PoweredOff', powerOffMode: 'Soft' } });
    await eventually('shutdownGuest issued', async () => (provider.ops.length > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 4000));
    assert.deepEqual(
      provider.ops.map((o) => o.op),
      ['shutdownGuest'],
    );
    const obj = await getVM(c, ns, name);
    assert.equal(obj.status?.powerState, 'PoweredOn');
  });

  it('restarts hard when a TrySoft restart cannot reboot the guest', async () => {
    const name = vmName('noreboot');
    await c.create(vm(ns, name, {}, { [OWN_MANAGER_LABEL]: ns }));
    await waitForPower(c, ns, name, 'PoweredOn');
    provider.ops.length = 0;
    // The guest's tools refuse the reboot (as vSphere says ToolsUnavailable).
    provider.beforePower = async (_vm, op) => {
      if (op === 'rebootGuest') throw new Error('ToolsUnavailable: VM Tools are not running');
    };
    try {
      const patched = (await patchVM(c, ns, name, { spec: { nextRestartTime: 'now' } })) as unknown as {
        spec: { nextRestartTime: string };
      };
      await eventually('reset after the failed reboot', async () =>
        provider.ops.some((o) => o.op === 'reset') ? true : undefined,
      );
      const obj = await eventually('lastRestartTime', async () => {
        const o = await getVM(c, ns, name);
        return o.status?.lastRestartTime === patched.spec.nextRestartTime ? o : undefined;
      });
      assert.equal(obj.status?.powerState, 'PoweredOn');
      assert.deepEqual(
        provider.ops.map((o) => o.op),
        ['reset'],
        'the refused reboot is not counted as done; one reset follows',
      );
    } finally {
      provider.beforePower = undefined;
    }
  });
});
