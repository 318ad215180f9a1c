// Long vSphere operations never hold a reconcile: with deploys that take as long as the test wants (an
// in-process VM controller over a provider whose creates wait), a power-off of a VM that exists goes through
// while ten deploys run; the deploys in flight stay within --max-concurrent-creates (the others wait, with a
// condition saying so, and start when a slot frees); a running deploy shows VirtualMachineCreated=False
// reason Deploying; and each object gets exactly one create.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { VirtualMachineController } from '../../src/controllers/virtualmachine/controller.js';
import { EventRecorder } from '../../src/runtime/events.js';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { createLogger } from '../../src/runtime/logger.js';
import { InMemoryVMs } from '../support/fake-provider.js';
import { client } from '../support/ground.js';
import { OWN_MANAGER_LABEL } from '../support/manager.js';
import { patchVM } from '../support/vm.js';
import { condition, eventually, getVM, vm, vmNamespace, waitForPower } from '../support/vms.js';

const MAX_CREATES = 4;

describe('VM controller: a slow vCenter', () => {
  let c: KubeClient;
  let ns: string;
  let provider: InMemoryVMs;
  const registry = new Registry();
  const abort = new AbortController();
  let running: Promise<void>;
  /** Deploys wait until the test lets them go. */
  let release: () => void = () => undefined;
  let released = Promise.resolve();

  before(async () => {
    c = client();
    ns = await vmNamespace('vm-slow');
    provider = new InMemoryVMs();
    provider.beforeCreate = () => released;
    const controller = new VirtualMachineController({
      client: c,
      provider,
      events: new EventRecorder(c, 'vmop-test'),
      logger: createLogger({ level: 'silent' }),
      registry,
      // Fewer workers than deploys: a parked worker would show at once.
      concurrency: 2,
      maxConcurrentCreates: MAX_CREATES,
      vmSelector: `${OWN_MANAGER_LABEL}=${ns}`,
    });
    running = controller.start(abort.signal);
  });
  after(async () => {
    release();
    abort.abort();
    await running;
    c.close();
  });

  it(
    'powers a VM off while ten deploys run, keeps the deploys within the bound, and creates each VM once',
    { timeout: 180_000 },
    async () => {
      const own = { [OWN_MANAGER_LABEL]: ns };
      await c.create(vm(ns, 'existing', {}, own));
      await waitForPower(c, ns, 'existing', 'PoweredOn');

      // From now on every deploy waits.
      released = new Promise<void>((r) => (release = r));
      const names = Array.from({ length: 10 }, (_, i) => `slow-${i}`);
      await Promise.all(names.map((n) => c.create(vm(ns, n, {}, own))));
      await eventually('the bound of deploys reached', async () =>
        provider.creates.filter((n) => n.startsWith('slow-')).length === MAX_CREATES ? true : undefined,
      );
      const deploying = await getVM(
        c,
        ns,
        names.find((n) => provider.creates.includes(n))!,
      );
      await eventually('a deploying VM says so', async () => {
        const o = await getVM(c, ns, deploying.metadata.name!);
        return condition(o, 'VirtualMachineCreated')?.reason === 'Deploying' ? o : undefined;
      });
      const waiting = names.find((n) => !provider.creates.includes(n))!;
      const queued = await eventually('a VM beyond the bound says it waits', async () => {
        const o = await getVM(c, ns, waiting);
        return condition(o, 'VirtualMachineCreated')?.reason === 'WaitingToDeploy' ? o : undefined;
      });
      assert.match(condition(queued, 'VirtualMachineCreated')!.message, /at most 4 at once/);

      // The power-off goes through while every deploy is still running.
      await patchVM(c, ns, 'existing', { spec: { powerState: 'PoweredOff', powerOffMode: 'Hard' } });
      await waitForPower(c, ns, 'existing', 'PoweredOff', 30_000);
      assert.equal(provider.creates.filter((n) => n.startsWith('slow-')).length, MAX_CREATES, 'no deploy ended');
      const inFlight = (await registry.getSingleMetric('vmop_vsphere_operations_in_flight')?.get())?.values.find(
        (v) => v.labels.kind === 'create',
      );
      assert.equal(inFlight?.value, MAX_CREATES);

      // The deploys end: the waiting VMs get their turn, and every VM is created once.
      release();
      for (const n of names) await waitForPower(c, ns, n, 'PoweredOn', 60_000);
      assert.deepEqual(
        provider.creates.filter((n) => n.startsWith('slow-')).sort(),
        [...names].sort(),
        'one create per object',
      );
    },
  );
});
