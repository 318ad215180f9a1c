// A hostile tenant against the real API server, webhooks, manager and vcsim. The non-privileged user (group
// vmop:users, VMs of its own namespace only) tries to read another namespace's Secret through every
// Secret-reference field, to blow up the manager with a gzip bomb, to grow its metrics from the outside, to
// forge the operator's own state, to orphan a VM, and to exhaust the admission server with half-sent bodies.
// The manager's RSS is sampled throughout and must stay within the Deployment's 384 MiB limit.
import { UserInputError } from '../../src/runtime/errors.js';
import assert from 'node:assert/strict';
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { GuestBootstrap } from '../../src/controllers/virtualmachine/bootstrap.js';
import type { VM } from '../../src/controllers/virtualmachine/types.js';
import type { ObservedVM, VMProvider } from '../../src/providers/interface.js';
import { KubeAPIError, type KubeClient } from '../../src/runtime/kube-client.js';
import { PATHS } from '../../src/webhooks/handlers.js';
import { client, govc, ground, letUserManageVMs } from '../support/ground.js';
import { OWN_MANAGER_LABEL, startOwnManager } from '../support/manager.js';
import { scrape } from '../support/metrics.js';
import { assertDenied, patchVM, vmPath } from '../support/vm.js';
import {
  condition,
  eventually,
  getVM,
  vm,
  vmName,
  vmNamespace,
  vspherePowerState,
  waitForCondition,
  waitForGone,
  waitForPower,
} from '../support/vms.js';
import { HOSTILE_NAMES, SECRET_FIELDS } from '../support/secret-fields.js';

const LIMIT_BYTES = 384 * 1024 * 1024;

/** Samples the shared manager's RSS (from its /metrics) until stopped; returns the highest value seen. */
function rssSampler(): { stop(): Promise<number> } {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { samples } = await scrape(ground().managerHealthPort).catch(() => ({ samples: [] }));
      const rss = samples.find((s) => s.name === 'process_resident_memory_bytes')?.value ?? 0;
      max = Math.max(max, rss);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return max;
    },
  };
}

/** A provider for GuestBootstrap alone: the test is about the Kubernetes requests, not vSphere. */
const quietProvider = {
  nicMACs: async () => ['00:50:56:00:00:01'],
  writeCloudInit: async () => undefined,
  customizeGuest: async () => undefined,
  vAppProperties: async () => [{ id: 'k', value: '' }],
  setVAppProperties: async () => undefined,
  setGuestID: async () => undefined,
} as unknown as VMProvider;

const OBSERVED: ObservedVM = {
  id: 'vm-1',
  name: 'x',
  instanceUUID: 'u',
  biosUUID: 'b',
  powerState: 'PoweredOff',
  toolsRunning: false,
};

describe('a hostile tenant', () => {
  let admin: KubeClient;
  let user: KubeClient;
  let ns: string;
  let victimNS: string;
  let sampler: ReturnType<typeof rssSampler>;
  before(async () => {
    sampler = rssSampler();
    admin = client();
    user = client('user');
    ns = await vmNamespace('tenant');
    await letUserManageVMs(ns);
    victimNS = await vmNamespace('victim');
    await admin.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'victim-secret', namespace: victimNS },
      stringData: { k: 'the-victims-password' },
    });
  });
  after(async () => {
    const max = await sampler.stop();
    admin.close();
    user.close();
    assert.ok(max > 0, 'the manager’s RSS was never read');
    assert.ok(max < LIMIT_BYTES, `the manager reached ${Math.round(max / 2 ** 20)} MiB RSS, over 384 MiB`);
  });

  describe('Secret references', () => {
    const variants = [
      `../../${'victim'}/secrets/victim-secret`,
      '..%2f..%2fvmop-system%2fsecrets%2fvmop-vcenter-credentials',
      '%2e%2e',
      'a/b',
    ];
    for (const [field, place, newer] of SECRET_FIELDS) {
      it(`refuses a traversal through ${field}`, async () => {
        for (const name of variants) {
          const obj = vm(ns, vmName('sref'), { bootstrap: place({ name, key: 'k' }) });
          // A field newer versions have is written in the newest, where the test's basic VM reads the same.
          if (newer) obj.apiVersion = 'vmoperator.vmware.com/v1alpha6';
          await assertDenied(user.create(obj, { dryRun: true }), field, /RFC 1123 subdomain/);
        }
      });
    }

    it('never sends a request outside the VM’s namespace, whatever the names (objects that skipped admission)', async () => {
      const seen: string[] = [];
      const recording = client();
      recording.onRequest = ({ path }) => seen.push(path);
      const bootstrap = new GuestBootstrap(recording, quietProvider, () => undefined);
      const names = [...HOSTILE_NAMES, `../../${victimNS}/secrets/victim-secret`, 'victim-secret', 'Victim', '.'];
      let refused = 0;
      try {
        for (const [field, place] of SECRET_FIELDS) {
          for (const name of names) {
            const spec = { bootstrap: place({ name, key: 'k' }), network: { interfaces: [{ name: 'eth0' }] } };
            const object = { ...vm(ns, 'v'), spec: { ...vm(ns, 'v').spec, ...spec, biosUUID: 'b' } } as unknown as VM;
            const config = { dns: { hostName: 'v' }, interfaces: [{ name: 'eth0' }] };
            const b = spec.bootstrap as Record<string, unknown>;
            const run = b.cloudInit
              ? bootstrap.cloudInit(object, OBSERVED, config)
              : b.vAppConfig
                ? bootstrap.vAppProperties(object, OBSERVED)
                : bootstrap.customization(object, OBSERVED, config);
            const err = await run.then(
              () => undefined,
              (e: unknown) => e,
            );
            // Nothing of the victim's is found: every name is refused or looked up (and missed) in `ns`.
            assert.ok(err instanceof UserInputError, `${field} = ${name}: ${String(err)}`);
            assert.match(err.reason, /^(InvalidSecretName|SecretNotFound)$/, `${field} = ${name}: ${err.message}`);
            if (err.reason === 'InvalidSecretName') refused++;
          }
        }
      } finally {
        recording.close();
      }
      assert.ok(refused > 0 && seen.length > 0);
      for (const p of seen) {
        const sent = new URL(`https://x${p}`).pathname;
        assert.ok(sent.startsWith(`/api/v1/namespaces/${ns}/secrets/`), `a request left the namespace: ${p}`);
        assert.equal(sent.split('/').length, 7, `a request names more than one Secret: ${p}`);
      }
    });
  });

  it('cannot make the manager inflate a gzip bomb: a condition names the limit, and the VM waits', async () => {
    // 300 MiB of zeros, about 300 KiB once gzipped: far below a Secret's 1 MiB.
    const bomb = gzipSync(Buffer.alloc(300 * 1024 * 1024), { level: 9 }).toString('base64');
    await admin.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bomb', namespace: ns },
      stringData: { 'user-data': bomb },
    });
    const name = vmName('bomb');
    await user.create(
      vm(ns, name, { bootstrap: { cloudInit: { rawCloudConfig: { name: 'bomb', key: 'user-data' } } } }),
    );
    const obj = await waitForCondition(user, ns, name, 'VirtualMachineBootstrapReady', 'False', 120_000);
    const c = condition(obj, 'VirtualMachineBootstrapReady')!;
    assert.equal(c.reason, 'BootstrapDataTooLarge');
    assert.match(c.message, /spec\.bootstrap\.cloudInit\.rawCloudConfig: .*limit of 1048576 bytes/);
    assert.notEqual(obj.status?.powerState, 'PoweredOn');
    // The manager is still serving (its health endpoint answers).
    const health = await fetch(`http://127.0.0.1:${ground().managerHealthPort}/healthz`);
    assert.equal(health.status, 200);
  });

  it('cannot grow the manager’s metrics with requests to random webhook paths', async () => {
    const webhookLines = async () =>
      (await (await fetch(`http://127.0.0.1:${ground().managerHealthPort}/metrics`)).text())
        .split('\n')
        .filter((l) => l.startsWith('vmop_webhook') || l.startsWith('controller_runtime_webhook'));
    const lines = async () => (await webhookLines()).length;
    await rawPost(`/warm-up-${Date.now()}`, '{}');
    // Both families are there (controller-runtime's names for stock dashboards), with one series for any path.
    assert.ok(
      (await webhookLines()).some((l) =>
        l.startsWith('controller_runtime_webhook_requests_total{webhook="other",code="404"}'),
      ),
    );
    const before = await lines();
    for (let i = 0; i < 2000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => rawPost(`/x-${i + j}-${Math.random()}`, '{}')));
    }
    assert.equal(await lines(), before);
  });

  describe('the operator’s own state', () => {
    it('refuses a forged attached-disks record at create and on update', async () => {
      const name = vmName('forge');
      const forged = JSON.stringify(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`v${i}`, `disk-${i}`])));
      const obj = vm(ns, name);
      obj.metadata.annotations = { 'vmop.dev/attached-disks': forged };
      const denied = await user.create(obj).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(denied instanceof KubeAPIError && denied.statusCode === 422, String(denied));
      assert.match(denied.message, /metadata\.annotations\[vmop\.dev\/attached-disks\]: Forbidden/);
      await user.create(vm(ns, name));
      await waitForPower(user, ns, name, 'PoweredOn', 120_000);
      const err = await patchVM(user, ns, name, {
        metadata: { annotations: { 'vmop.dev/attached-disks': forged } },
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof KubeAPIError && err.statusCode === 422, String(err));
      const annotations = (await getVM(user, ns, name)).metadata.annotations as Record<string, string> | undefined;
      assert.equal(annotations?.['vmop.dev/attached-disks'], undefined);
    });

    it('cannot orphan a deployed VM by removing the finalizer; an orphan made by an admin is collected', async () => {
      // The VM belongs to a manager of the test's own, stopped before the delete: the object then stays in
      // deletion (its finalizer held) for as long as the check takes, however fast vSphere would destroy it.
      const name = vmName('orphan');
      const first = await startOwnManager({ id: name });
      try {
        await user.create(vm(ns, name, {}, { [OWN_MANAGER_LABEL]: name }));
        await waitForPower(user, ns, name, 'PoweredOn', 120_000);
        await assertDenied(
          patchVM(user, ns, name, { metadata: { finalizers: null } }),
          'metadata.finalizers',
          /not allowed for non-admin users while the VM exists in vSphere/,
        );
      } finally {
        await first.kill();
      }
      await user.delete({
        apiVersion: 'vmoperator.vmware.com/v1alpha3',
        kind: 'VirtualMachine',
        metadata: { name, namespace: ns },
      });
      await assertDenied(
        patchVM(user, ns, name, { metadata: { finalizers: null } }),
        'metadata.finalizers',
        /not allowed for non-admin users/,
      );
      const second = await startOwnManager({ id: name });
      try {
        await waitForGone(user, ns, name, 120_000);
      } finally {
        await second.kill();
      }
      assert.equal(await vspherePowerState(ns, name), undefined, 'the vSphere VM went with its object');

      // An admin may force it while no manager looks after the VM (here: the one manager whose selector matches
      // it is stopped); the vSphere VM left behind is destroyed after the grace period by the shared manager.
      const orphan = vmName('orphan');
      const own = await startOwnManager({ id: orphan });
      try {
        await user.create(vm(ns, orphan, {}, { [OWN_MANAGER_LABEL]: orphan }));
        await waitForPower(user, ns, orphan, 'PoweredOn', 120_000);
      } finally {
        await own.kill();
      }
      await patchVM(admin, ns, orphan, { metadata: { finalizers: null } });
      await admin.request('DELETE', vmPath(ns, orphan));
      await waitForGone(admin, ns, orphan);
      assert.equal(await vspherePowerState(ns, orphan), 'poweredOn', 'the orphan is there at first');
      await eventually(
        'the orphan destroyed',
        async () => ((await vspherePowerState(ns, orphan)) ? undefined : true),
        180_000,
      );
      // (The manager counts it once its destroy task has ended, a moment after vcsim no longer lists the VM.)
      await eventually('the destroy counted', async () => {
        const { samples } = await scrape(ground().managerHealthPort);
        return (samples.find((s) => s.name === 'vmop_orphaned_vms_destroyed_total')?.value ?? 0) >= 1
          ? true
          : undefined;
      });
    });

    it('a privileged copy carrying another VM’s instance UUID neither adopts nor destroys that VM', async () => {
      const original = vmName('orig');
      await user.create(vm(ns, original));
      const stored = await waitForPower(user, ns, original, 'PoweredOn', 120_000);
      const copy = vmName('copy');
      await admin.create(vm(ns, copy, { instanceUUID: stored.spec.instanceUUID, powerState: 'PoweredOff' }));
      const refused = await waitForCondition(admin, ns, copy, 'VirtualMachineCreated', 'False', 60_000);
      assert.equal(condition(refused, 'VirtualMachineCreated')!.reason, 'InstanceUUIDInUse');
      assert.match(
        condition(refused, 'VirtualMachineCreated')!.message,
        new RegExp(`belongs to VirtualMachine ${ns}/${original}`),
      );
      await admin.request('DELETE', vmPath(ns, copy));
      await waitForGone(admin, ns, copy, 60_000);
      // The original is untouched: still there, still on (the copy asked for PoweredOff).
      assert.equal(await vspherePowerState(ns, original), 'poweredOn');
      const r = await govc(['vm.info', '-vm.uuid', stored.spec.instanceUUID!]);
      assert.match(r.stdout, new RegExp(original));
    });
  });

  it('cannot exhaust the admission server with half-sent bodies', async () => {
    const held: import('node:http').ClientRequest[] = [];
    try {
      for (let i = 0; i < 150; i++) {
        const req = https.request({
          host: '127.0.0.1',
          port: ground().webhookPort,
          path: PATHS.validateVirtualMachine,
          method: 'POST',
          rejectUnauthorized: false,
          agent: false,
          headers: { 'Content-Length': String(3 * 1024 * 1024) },
        });
        req.on('error', () => undefined);
        req.on('response', (res) => res.resume());
        req.write(Buffer.alloc(Math.floor(2.9 * 1024 * 1024), 32));
        held.push(req);
      }
      // While they are held, a VM write by the tenant still goes through (the API server calls the webhooks).
      const name = vmName('busy');
      await eventually(
        'a VM write during the flood',
        async () => {
          await user.create(vm(ns, name, { powerState: 'PoweredOff' }), { dryRun: true });
          return true;
        },
        60_000,
      );
    } finally {
      for (const r of held) r.destroy();
    }
  });
});

/** POSTs to the shared manager's webhook port without trusting its certificate (the path is the point). */
function rawPost(path: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = https.request(
      { host: '127.0.0.1', port: ground().webhookPort, path, method: 'POST', rejectUnauthorized: false, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}
