// The served API versions through the real API server and the manager's conversion webhook: VM Operator's own
// v1alpha6 example deploys and powers on, every version reads the same VM, an older client's update keeps what
// only newer versions hold, and admission answers alike whichever version a request speaks.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONVERSION_ANNOTATION } from '../../src/api/conversion.js';
import { SERVED_VERSIONS } from '../../src/api/versions.js';
import { repoRoot } from '../../src/install/package-root.js';
import { apiPath } from '../../src/runtime/api-path.js';
import { KubeAPIError, type KubeClient, type KubeObject } from '../../src/runtime/kube-client.js';
import { logFile } from '../../src/devenv/ground.js';
import { client, ground, kubectl } from '../support/ground.js';
import { vmObject } from '../support/vm.js';
import { eventually, PHOTON_IMAGE, vmNamespace, waitForPower, type VMObject } from '../support/vms.js';

const GROUP = 'vmoperator.vmware.com';

function pathIn(version: string, namespace: string, name?: string) {
  return apiPath({ apiVersion: `${GROUP}/${version}`, resource: 'virtualmachines', namespace, name });
}

function read(c: KubeClient, version: string, namespace: string, name: string): Promise<VMObject> {
  return c.request<VMObject>('GET', pathIn(version, namespace, name));
}

type Loose = Record<string, unknown> & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

describe('API versions v1alpha3 to v1alpha6', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await vmNamespace('api-versions');
  });
  after(() => c.close());

  it('deploys VM Operator’s v1alpha6 vm-example.yaml and shows the same VM in every version', async () => {
    // (The mutating webhook resolves imageName into spec.image once the image controller has published it.)
    await eventually('ClusterVirtualMachineImage vmi-3044b59f15d847781', () =>
      c
        .request(
          'GET',
          apiPath({ apiVersion: `${GROUP}/v1alpha6`, resource: 'clustervirtualmachineimages', name: PHOTON_IMAGE }),
        )
        .catch(() => undefined),
    );
    const file = path.join(repoRoot(), 'test', 'fixtures', 'vm-example-v1alpha6.yaml');
    const applied = await kubectl(['apply', '-n', ns, '-f', file]);
    assert.equal(applied.code, 0, applied.stderr);
    const on = await waitForPower(c, ns, 'my-vm', 'PoweredOn', 120_000);
    const hub = (await read(c, 'v1alpha6', ns, 'my-vm')) as Loose;
    assert.equal(hub.apiVersion, `${GROUP}/v1alpha6`);
    assert.ok(hub.status?.nodeName, 'v1alpha6 names the host in status.nodeName');
    for (const version of SERVED_VERSIONS) {
      const obj = (await read(c, version, ns, 'my-vm')) as Loose;
      assert.equal(obj.apiVersion, `${GROUP}/${version}`);
      assert.equal(obj.metadata && (obj.metadata as { uid: string }).uid, on.metadata.uid, version);
      for (const key of ['className', 'imageName', 'storageClass', 'bootstrap']) {
        assert.deepEqual(obj.spec?.[key], hub.spec?.[key], `${version} spec.${key}`);
      }
      for (const key of ['powerState', 'uniqueID', 'instanceUUID', 'biosUUID', 'zone', 'conditions', 'network']) {
        assert.deepEqual(obj.status?.[key], hub.status?.[key], `${version} status.${key}`);
      }
      // v1alpha3 calls the host status.host; later versions status.nodeName.
      assert.equal(obj.status?.[version === 'v1alpha3' ? 'host' : 'nodeName'], hub.status?.nodeName, version);
    }
    // The manager said so in its log, with the keys of the reconcile that started the deploy.
    const log = await readFile(logFile(ground().dir, 'manager'), 'utf8');
    const started = log
      .split('\n')
      .filter((l) => l.includes('vSphere operation started') && l.includes(ns))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(
      started.some(
        (l) =>
          l.controller === 'virtualmachine' &&
          l.namespace === ns &&
          l.name === 'my-vm' &&
          l.operation === 'create' &&
          /^[0-9a-f-]{36}$/.test(String(l.reconcileID)),
      ),
      JSON.stringify(started),
    );
    // kubectl reads the preferred (newest) version and prints VM Operator's columns.
    const table = await kubectl(['get', 'vm', '-n', ns, 'my-vm', '-o', 'wide']);
    assert.match(table.stdout, /my-vm\s+PoweredOn\s+my-vm-class\s+vmi-3044b59f15d847781/, JSON.stringify(hub.spec));
  });

  it('keeps a field only newer versions have through a v1alpha3 update', async () => {
    await c.create({
      apiVersion: `${GROUP}/v1alpha6`,
      kind: 'VirtualMachine',
      metadata: { name: 'newer', namespace: ns },
      spec: {
        className: 'my-vm-class',
        imageName: 'vmi-3044b59f15d847781',
        storageClass: 'my-storage-class',
        powerState: 'PoweredOff',
        promoteDisksMode: 'Offline',
      },
    });
    const v3 = (await read(c, 'v1alpha3', ns, 'newer')) as Loose;
    assert.equal(v3.spec?.promoteDisksMode, undefined, 'v1alpha3 has no promoteDisksMode');
    const annotations = (v3.metadata as { annotations?: Record<string, string> }).annotations ?? {};
    assert.match(annotations[CONVERSION_ANNOTATION] ?? '', /promoteDisksMode/);
    // A read-modify-write by a v1alpha3 client (PUT of what it read, one field changed; again on a conflict
    // with the controller's own writes) ...
    for (let current = v3; ; current = (await read(c, 'v1alpha3', ns, 'newer')) as Loose) {
      const put = { ...current, spec: { ...current.spec, powerState: 'PoweredOn' } };
      const done = await c.request('PUT', pathIn('v1alpha3', ns, 'newer'), { body: put }).then(
        () => true,
        (err: unknown) => {
          if (err instanceof KubeAPIError && err.conflict) return false;
          throw err;
        },
      );
      if (done) break;
    }
    // ... and a merge patch that does not know the annotation at all.
    await c.request('PATCH', pathIn('v1alpha3', ns, 'newer'), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { team: 'a' } } },
    });
    const hub = (await read(c, 'v1alpha6', ns, 'newer')) as Loose;
    assert.equal(hub.spec?.promoteDisksMode, 'Offline');
    assert.equal(hub.spec?.powerState, 'PoweredOn');
    const meta = hub.metadata as { labels?: Record<string, string>; annotations?: Record<string, string> };
    assert.equal(meta.labels?.team, 'a');
    assert.equal(meta.annotations?.[CONVERSION_ANNOTATION], undefined, 'the hub never shows the annotation');
    // A v1alpha4 client sees it as it is.
    const v4 = (await read(c, 'v1alpha4', ns, 'newer')) as Loose;
    assert.equal(v4.spec?.promoteDisksMode, 'Offline');
  });

  it('moves CD-ROMs between spec.cdrom (v1alpha3, v1alpha4) and spec.hardware.cdrom (v1alpha5 on)', async () => {
    const cdrom = [{ name: 'cd1', image: { kind: 'VirtualMachineImage', name: 'vmi-x' }, connected: false }];
    await c.create(vmObject(ns, 'cds', { guestID: 'ubuntu64Guest', powerState: 'PoweredOff', cdrom }));
    for (const version of SERVED_VERSIONS) {
      const obj = (await read(c, version, ns, 'cds')) as Loose;
      const got =
        version === 'v1alpha3' || version === 'v1alpha4'
          ? obj.spec?.cdrom
          : (obj.spec?.hardware as { cdrom?: unknown } | undefined)?.cdrom;
      assert.deepEqual(got, [{ ...cdrom[0], allowGuestControl: true }], version);
    }
  });

  // Each case: a spec that admission refuses, and the field it names in v1alpha3 and in v1alpha6.
  const REFUSED: [string, Record<string, unknown>, string, string, RegExp][] = [
    ['a create that asks for Suspended', { powerState: 'Suspended' }, 'spec.powerState', 'spec.powerState', /./],
    [
      'encryption',
      { crypto: { encryptionClassName: 'x' } },
      'spec.crypto',
      'spec.crypto',
      /vmop does not support VM encryption yet/,
    ],
    [
      'a CD-ROM of another kind',
      { guestID: 'ubuntu64Guest', cdrom: [{ name: 'cd1', image: { kind: 'Pod', name: 'x' } }] },
      'spec.cdrom[0].image.kind',
      'spec.hardware.cdrom[0].image.kind',
      /supported values/,
    ],
    [
      'two interfaces with one name',
      { network: { interfaces: [{ name: 'eth0' }, { name: 'eth0' }] } },
      'spec.network.interfaces[1]',
      'spec.network.interfaces[1]',
      /./,
    ],
    ['a bad restart time', { nextRestartTime: 'tomorrow' }, 'spec.nextRestartTime', 'spec.nextRestartTime', /./],
  ];

  for (const [what, spec, v3Field, v6Field, message] of REFUSED) {
    it(`refuses ${what} alike in v1alpha3 and v1alpha6, naming each version's field`, async () => {
      const answers: { field: string; message: string; code: number }[] = [];
      for (const [version, field] of [
        ['v1alpha3', v3Field],
        ['v1alpha6', v6Field],
      ] as const) {
        const obj: KubeObject = { ...vmObject(ns, `refused-${version}`, spec), apiVersion: `${GROUP}/${version}` };
        if (version === 'v1alpha6' && 'cdrom' in spec) {
          const { cdrom, ...rest } = obj.spec as Record<string, unknown>;
          obj.spec = { ...rest, hardware: { cdrom } };
        }
        const err = await c.create(obj).then(
          () => assert.fail(`${version}: ${what} was admitted`),
          (e: unknown) => e,
        );
        assert.ok(err instanceof KubeAPIError, String(err));
        const causes = err.causes as { field?: string; message?: string }[];
        const cause = causes.find((x) => x.field?.startsWith(field));
        assert.ok(cause, `${version}: no cause on ${field} in ${JSON.stringify(causes)}`);
        assert.match(err.message, message);
        answers.push({ field: cause.field ?? '', message: cause.message ?? '', code: err.statusCode });
      }
      assert.equal(answers[0]?.code, answers[1]?.code);
      assert.equal(answers[0]?.message, answers[1]?.message);
    });
  }
});
