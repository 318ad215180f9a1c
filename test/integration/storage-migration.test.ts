// An upgrade from the release that stored v1alpha3, on a private API server (its own etcd, so the shared one's
// CRDs stay as they are): objects created in the old layout are read and updated in every version through the
// conversion webhook, `vmop migrate-storage` rewrites them in v1alpha6 and leaves the CRDs storing only it,
// and a replica's certificate rotator keeps the caBundle and namespace of a conversion Service current.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SERVED_VERSIONS } from '../../src/api/versions.js';
import {
  CONVERTED_CRDS,
  customResourceDefinition,
  KINDS,
  type CustomResourceDefinition,
} from '../../src/crd/definitions.js';
import { migrateStorage } from '../../src/install/storage-migration.js';
import { apiPath } from '../../src/runtime/api-path.js';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { createLogger } from '../../src/runtime/logger.js';
import { ConversionCABundle } from '../../src/webhooks/certificates/conversion-ca.js';
import { CertificateRotator } from '../../src/webhooks/certificates/rotator.js';
import { CONVERSION_PATH } from '../../src/webhooks/conversion.js';
import { startPrivateAPIServer, type PrivateAPIServer } from '../../src/devenv/private-apiserver.js';
import { eventually } from '../support/vms.js';

const GROUP = 'vmoperator.vmware.com';
const CRDS = 'apiextensions.k8s.io/v1';
const VM_CRD = `virtualmachines.${GROUP}`;

type Loose = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

function vmPathIn(version: string, name?: string) {
  return apiPath({ apiVersion: `${GROUP}/${version}`, resource: 'virtualmachines', namespace: 'default', name });
}

/** The previous release's CRD: v1alpha3 alone, served and stored, no conversion. */
function oldRelease(crd: CustomResourceDefinition): CustomResourceDefinition {
  const v3 = crd.spec.versions.find((v) => v.name === 'v1alpha3')!;
  const { conversion, ...spec } = crd.spec;
  void conversion;
  return { ...crd, spec: { ...spec, versions: [{ ...v3, storage: true }] } };
}

describe('storage-version migration from v1alpha3', () => {
  let dir: string;
  let c: KubeClient;
  let api: PrivateAPIServer;
  let conversion: PrivateAPIServer['conversion'];
  const defs = KINDS.filter((k) => CONVERTED_CRDS.includes(`${k.plural}.${GROUP}`));

  const established = (name: string, version: string) =>
    eventually(
      `${name} serves ${version}`,
      async () => {
        const crd = await c.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(
          CRDS,
          'CustomResourceDefinition',
          name,
        );
        const ok = crd.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True');
        const [, plural = ''] = /^([^.]+)/.exec(name) ?? [];
        const served = await c
          .request('GET', apiPath({ apiVersion: `${GROUP}/${version}`, resource: plural }))
          .then(() => true)
          .catch(() => false);
        return ok && served ? true : undefined;
      },
      60_000,
    );

  before(async () => {
    api = await startPrivateAPIServer('vmop-migrate');
    ({ client: c, conversion, dir } = api);
  });

  after(() => api?.stop());

  it(
    'reads and updates old objects in every version after the upgrade, then stores them as v1alpha6',
    { timeout: 180_000 },
    async () => {
      // The old release: CRDs of v1alpha3 alone, and a VM written in its layout (status from its controller).
      for (const def of defs)
        await c.apply(oldRelease(customResourceDefinition(def, conversion)) as unknown as KubeObject);
      for (const name of CONVERTED_CRDS) await established(name, 'v1alpha3');
      const cdrom = [
        { name: 'cd1', image: { kind: 'VirtualMachineImage', name: 'iso' }, connected: true, allowGuestControl: true },
      ];
      await c.request('POST', vmPathIn('v1alpha3'), {
        body: {
          apiVersion: `${GROUP}/v1alpha3`,
          kind: 'VirtualMachine',
          metadata: { name: 'old' },
          spec: { className: 'small', imageName: 'vmi-1', storageClass: 'gold', guestID: 'ubuntu64Guest', cdrom },
        },
      });
      await c.request(
        'PATCH',
        apiPath({
          apiVersion: `${GROUP}/v1alpha3`,
          resource: 'virtualmachines',
          namespace: 'default',
          name: 'old',
          subresource: 'status',
        }),
        {
          contentType: 'application/merge-patch+json',
          body: { status: { host: 'esx-1', powerState: 'PoweredOn', storage: { usage: { total: '10Gi' } } } },
        },
      );
      // One more that nobody writes again until the migration.
      await c.request('POST', vmPathIn('v1alpha3'), {
        body: {
          apiVersion: `${GROUP}/v1alpha3`,
          kind: 'VirtualMachine',
          metadata: { name: 'untouched' },
          spec: { cdrom },
        },
      });
      const untouched = await c.request<Loose>('GET', vmPathIn('v1alpha3', 'untouched'));

      // The upgrade: every version served, v1alpha6 stored, conversion through the webhook.
      for (const def of defs) await c.apply(customResourceDefinition(def, conversion) as unknown as KubeObject);
      for (const name of CONVERTED_CRDS) await established(name, 'v1alpha6');
      for (const version of SERVED_VERSIONS) {
        const vm = await c.request<Loose>('GET', vmPathIn(version, 'old'));
        const early = version === 'v1alpha3' || version === 'v1alpha4';
        assert.deepEqual(early ? vm.spec?.cdrom : (vm.spec?.hardware as { cdrom?: unknown })?.cdrom, cdrom, version);
        assert.equal(vm.status?.[version === 'v1alpha3' ? 'host' : 'nodeName'], 'esx-1', version);
        assert.equal(vm.spec?.className, 'small', version);
        // An update in this version.
        await c.request('PATCH', vmPathIn(version, 'old'), {
          contentType: 'application/merge-patch+json',
          body: { metadata: { labels: { [`written-in-${version}`]: 'yes' } } },
        });
      }
      const hub = await c.request<Loose>('GET', vmPathIn('v1alpha6', 'old'));
      assert.deepEqual(
        Object.keys(hub.metadata.labels ?? {}).sort(),
        SERVED_VERSIONS.map((v) => `written-in-${v}`),
      );
      assert.deepEqual(hub.status?.storage, { total: '10Gi' });

      // A VM created after the upgrade is stored as v1alpha6 already.
      const fresh = await c.request<Loose>('POST', vmPathIn('v1alpha6'), {
        body: {
          apiVersion: `${GROUP}/v1alpha6`,
          kind: 'VirtualMachine',
          metadata: { name: 'new' },
          spec: { className: 'small' },
        },
      });
      const crd = await c.get<KubeObject & { status: { storedVersions: string[] } }>(
        CRDS,
        'CustomResourceDefinition',
        VM_CRD,
      );
      assert.deepEqual([...crd.status.storedVersions].sort(), ['v1alpha3', 'v1alpha6']);

      const lines: string[] = [];
      const results = await migrateStorage(c, (l) => lines.push(l));
      assert.ok(
        lines.some((l) => l.includes(`${VM_CRD}: stored versions v1alpha3, v1alpha6 → v1alpha6`)),
        lines.join('\n'),
      );
      assert.equal(results.find((r) => r.crd === VM_CRD)?.rewritten, 1, lines.join('\n'));
      for (const name of CONVERTED_CRDS) {
        const after = await c.get<KubeObject & { status: { storedVersions: string[] } }>(
          CRDS,
          'CustomResourceDefinition',
          name,
        );
        assert.deepEqual(after.status.storedVersions, ['v1alpha6'], name);
      }
      // The untouched VM was stored anew (its stored bytes changed: a new resourceVersion); the others were held
      // in the storage version already (the updates above wrote them; the API server skipped identical writes).
      const moved = await c.request<Loose>('GET', vmPathIn('v1alpha6', 'untouched'));
      assert.notEqual(moved.metadata.resourceVersion, untouched.metadata.resourceVersion);
      assert.deepEqual((moved.spec?.hardware as { cdrom?: unknown } | undefined)?.cdrom, cdrom);
      const migrated = await c.request<Loose>('GET', vmPathIn('v1alpha6', 'old'));
      assert.equal(migrated.metadata.resourceVersion, hub.metadata.resourceVersion);
      assert.deepEqual(migrated.spec, hub.spec);
      assert.deepEqual(migrated.status, hub.status);
      const again = await c.request<Loose>('GET', vmPathIn('v1alpha6', 'new'));
      assert.equal(again.metadata.resourceVersion, fresh.metadata.resourceVersion);
      // And it still reads in v1alpha3 as it was written.
      const v3 = await c.request<Loose>('GET', vmPathIn('v1alpha3', 'old'));
      assert.deepEqual(v3.spec?.cdrom, cdrom);
      assert.deepEqual(v3.status?.storage, { usage: { total: '10Gi' } });
      // Run again: nothing left to do.
      const twice = await migrateStorage(c);
      assert.deepEqual(
        twice.map((r) => r.rewritten),
        CONVERTED_CRDS.map(() => 0),
      );
    },
  );

  it(
    'keeps the caBundle and namespace of a CRD that converts through the replica’s Service',
    { timeout: 60_000 },
    async () => {
      await c.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vmop-system' } });
      const service = { namespace: 'elsewhere', name: 'vmop-webhook-service', port: 443, path: CONVERSION_PATH };
      const vmDef = defs.find((d) => d.kind === 'VirtualMachine')!;
      const imageDef = defs.find((d) => d.kind === 'VirtualMachineImage')!;
      await c.apply(customResourceDefinition(vmDef, { service }) as unknown as KubeObject);
      // Another Service's CRD is someone else's: left alone.
      await c.apply(
        customResourceDefinition(imageDef, { service: { ...service, name: 'other' } }) as unknown as KubeObject,
      );
      const rotator = new CertificateRotator({
        client: c,
        namespace: 'vmop-system',
        secretName: 'vmop-webhook-server-cert',
        conversionCRDs: [...CONVERTED_CRDS],
        service: 'vmop-webhook-service',
        policy: { hosts: ['vmop-webhook-service.vmop-system.svc'], validityMs: 3_600_000, caValidityMs: 36_000_000 },
        logger: createLogger({ level: 'warn' }),
      });
      const stop = new AbortController();
      const running = rotator.start(stop.signal);
      type Conv = KubeObject & {
        spec: {
          conversion: {
            webhook: { clientConfig: { caBundle?: string; service: { namespace: string; name: string } } };
          };
        };
      };
      try {
        const cfg = await eventually('conversion caBundle injected', async () => {
          const crd = await c.get<Conv>(CRDS, 'CustomResourceDefinition', VM_CRD);
          const cc = crd.spec.conversion.webhook.clientConfig;
          return cc.caBundle && cc.service.namespace === 'vmop-system' ? cc : undefined;
        });
        const secret = await c.get<KubeObject & { data: Record<string, string> }>(
          'v1',
          'Secret',
          'vmop-webhook-server-cert',
          'vmop-system',
        );
        assert.equal(cfg.caBundle, secret.data['ca.crt']);
        const other = await c.get<Conv>(CRDS, 'CustomResourceDefinition', `virtualmachineimages.${GROUP}`);
        assert.equal(other.spec.conversion.webhook.clientConfig.caBundle, undefined);
        assert.equal(other.spec.conversion.webhook.clientConfig.service.namespace, 'elsewhere');
      } finally {
        stop.abort();
        await running;
      }
    },
  );

  it(
    'copies a certificate folder’s CA into the CRDs that convert through the manager’s Service',
    { timeout: 60_000 },
    async () => {
      const service = { namespace: 'vmop-system', name: 'vmop-webhook-service', port: 443, path: CONVERSION_PATH };
      const vmDef = defs.find((d) => d.kind === 'VirtualMachine')!;
      await c.apply(customResourceDefinition(vmDef, { service }) as unknown as KubeObject);
      const certs = await mkdtemp(path.join(dir, 'certs-'));
      const pem = Buffer.from(conversion.caBundle ?? '', 'base64').toString('utf8');
      await writeFile(path.join(certs, 'ca.crt'), pem);
      const injector = new ConversionCABundle({
        client: c,
        crds: CONVERTED_CRDS,
        caFile: path.join(certs, 'ca.crt'),
        namespace: 'vmop-system',
        service: 'vmop-webhook-service',
        intervalMs: 60_000,
        logger: createLogger({ level: 'warn' }),
      });
      await injector.once();
      type Conv = KubeObject & { spec: { conversion: { webhook: { clientConfig: { caBundle?: string } } } } };
      const crd = await c.get<Conv>(CRDS, 'CustomResourceDefinition', VM_CRD);
      assert.equal(crd.spec.conversion.webhook.clientConfig.caBundle, Buffer.from(pem).toString('base64'));
    },
  );
});
