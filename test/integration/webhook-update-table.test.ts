// The spec's "Updating a VM" table through the real API server, as admin and as the non-privileged user:
// imageName and className never change; powerState and the zone label change while on or off; a zone label
// not set yet can be set.
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, letUserManageVMs, testNamespace } from '../support/ground.js';
import { assertAllowed, assertDenied, patchStatus, patchVM, vmObject } from '../support/vm.js';

const ZONE = 'topology.kubernetes.io/zone';

interface Row {
  field: string;
  patch: Record<string, unknown>;
  allowed: boolean;
  /** Only for the "Not Already Set" column: the VM starts without the field. */
  unset?: boolean;
  denyField?: string;
}

const ROWS: Row[] = [
  { field: 'spec.imageName', patch: { spec: { imageName: 'vmi-other' } }, allowed: false, denyField: 'spec.imageName' },
  {
    field: 'spec.className',
    patch: { spec: { className: 'other-class' } },
    allowed: false,
    denyField: 'spec.className',
  },
  { field: 'spec.powerState', patch: { spec: { powerState: 'PoweredOff' } }, allowed: true },
  { field: `metadata.labels.${ZONE}`, patch: { metadata: { labels: { [ZONE]: 'zone-b' } } }, allowed: true },
  {
    field: `metadata.labels.${ZONE}`,
    patch: { metadata: { labels: { [ZONE]: 'zone-a' } } },
    allowed: true,
    unset: true,
  },
];

describe('the spec’s update table', () => {
  const clients: Record<'admin' | 'user', KubeClient | undefined> = { admin: undefined, user: undefined };
  let ns: string;
  before(async () => {
    clients.admin = client('admin');
    clients.user = client('user');
    ns = await testNamespace('update');
    await letUserManageVMs(ns);
  });
  after(() => {
    clients.admin?.close();
    clients.user?.close();
  });

  let n = 0;
  for (const as of ['admin', 'user'] as const) {
    for (const row of ROWS) {
      const columns: ('PoweredOn' | 'PoweredOff' | 'not already set')[] = row.unset
        ? ['not already set']
        : ['PoweredOn', 'PoweredOff'];
      for (const column of columns) {
        const label = column === 'not already set' ? 'not already set' : `while ${column}`;
        it(`${row.field} ${label} as ${as}: ${row.allowed ? 'allowed' : 'denied'}`, async () => {
          const admin = clients.admin as KubeClient;
          const c = clients[as] as KubeClient;
          const name = `row-${n++}`;
          const state = column === 'PoweredOff' ? 'PoweredOff' : 'PoweredOn';
          await admin.create(vmObject(ns, name, { powerState: state }, row.unset ? undefined : { [ZONE]: 'zone-a' }));
          await patchStatus(admin, ns, name, { powerState: state, zone: 'zone-a' });
          const patch =
            row.field === 'spec.powerState'
              ? { spec: { powerState: state === 'PoweredOn' ? 'PoweredOff' : 'PoweredOn' } }
              : row.patch;
          const write = patchVM(c, ns, name, patch);
          if (row.allowed) await assertAllowed(write);
          else await assertDenied(write, row.denyField ?? row.field, /field is immutable/);
        });
      }
    }
  }
});
