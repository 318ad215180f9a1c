// spec.readinessProbe through the shared manager and vcsim, as VM Operator's prober does it: Ready follows a
// guestinfo key (set with govc), the guest heartbeat against its threshold (vcsim's SET. ExtraConfig sets it),
// and a TCP port; a VM that is not powered on is NotReady; a named port is refused at admission.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, govc } from '../support/ground.js';
import { assertDenied, patchVM, vmObject } from '../support/vm.js';
import { condition, eventsFor, eventually, getVM, vm, vmName, vmNamespace } from '../support/vms.js';

describe('VM controller: readiness probes', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await vmNamespace('vm-ready');
  });
  after(() => c.close());

  const readyIs = (name: string, status: string, reason?: RegExp) =>
    eventually(
      `${name} Ready=${status}`,
      async () => {
        const o = await getVM(c, ns, name);
        const r = condition(o, 'Ready');
        return r?.status === status && (!reason || reason.test(`${r.reason}: ${r.message}`)) ? r : undefined;
      },
      60_000,
    );
  const setExtraConfig = async (name: string, entry: string) => {
    const r = await govc(['vm.change', '-vm', `/DC0/vm/${ns}/${name}`, '-e', entry]);
    assert.equal(r.code, 0, r.stderr);
  };

  it('follows guestinfo keys against their expressions, and says NotReady while the VM is off', async () => {
    const name = vmName('gi');
    await c.create(
      vm(ns, name, { readinessProbe: { periodSeconds: 1, guestInfo: [{ key: 'app.state', value: '^ready$' }] } }),
    );
    await eventually(
      'PoweredOn',
      async () => ((await getVM(c, ns, name)).status?.powerState === 'PoweredOn' ? true : undefined),
      60_000,
    );
    const missing = await readyIs(name, 'False', /^NotReady: guestinfo\.app\.state is not set$/);
    assert.ok(missing);
    await setExtraConfig(name, 'guestinfo.app.state=starting');
    await readyIs(name, 'False', /is "starting", which does not match \^ready\$/);
    await setExtraConfig(name, 'guestinfo.app.state=ready');
    await readyIs(name, 'True');
    const reasons = (await eventsFor(c, ns, name)).map((e) => e.reason);
    assert.ok(reasons.includes('Ready') && reasons.includes('NotReady'), reasons.join(','));
    await patchVM(c, ns, name, { spec: { powerState: 'PoweredOff' } });
    await readyIs(name, 'False', /^NotReady: virtual machine is not powered on$/);
  });

  it('follows the guest heartbeat against its threshold', async () => {
    const name = vmName('hb');
    await c.create(
      vm(ns, name, { readinessProbe: { periodSeconds: 1, guestHeartbeat: { thresholdStatus: 'green' } } }),
    );
    // vcsim reports no heartbeat for a VM at first (Unknown, as VM Operator says it), vCenter gray.
    await eventually('not ready without a green heartbeat', async () => {
      const r = condition(await getVM(c, ns, name), 'Ready');
      return r && r.status !== 'True' && /no heartbeat value|"gray" is below threshold/.test(r.message) ? r : undefined;
    });
    await setExtraConfig(name, 'SET.guestHeartbeatStatus=yellow');
    await readyIs(name, 'False', /heartbeat status "yellow" is below threshold/);
    await setExtraConfig(name, 'SET.guestHeartbeatStatus=green');
    await readyIs(name, 'True');
  });

  it('opens a TCP connection to the host and port, and refuses a named port at admission', async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const name = vmName('tcp');
    try {
      await c.create(vm(ns, name, { readinessProbe: { periodSeconds: 1, tcpSocket: { host: '127.0.0.1', port } } }));
      await readyIs(name, 'True');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await readyIs(name, 'False', /^NotReady: dial tcp 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    await assertDenied(
      c.create(vmObject(ns, 'named-port', { readinessProbe: { tcpSocket: { port: 'ssh' } } })),
      'spec.readinessProbe.tcpSocket.port',
      /must be a port number \(1-65535\): a VM has no named ports/,
    );
  });
});
