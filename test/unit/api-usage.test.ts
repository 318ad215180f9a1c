// Requests to the API server in RBAC terms, one row per shape of path and method.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rbacAttributes } from '../../src/runtime/api-usage.js';

describe('RBAC attributes of API requests', () => {
  const rows: [string, string, { watch?: boolean; status?: number }, string | undefined][] = [
    ['GET', '/apis/vmoperator.vmware.com/v1alpha3/virtualmachines', {}, 'vmoperator.vmware.com/virtualmachines:list'],
    [
      'GET',
      '/apis/vmoperator.vmware.com/v1alpha3/virtualmachines?labelSelector=a',
      { watch: true },
      'vmoperator.vmware.com/virtualmachines:watch',
    ],
    [
      'GET',
      '/apis/vmoperator.vmware.com/v1alpha3/namespaces/ns/virtualmachines/vm',
      {},
      'vmoperator.vmware.com/virtualmachines:get',
    ],
    [
      'PUT',
      '/apis/vmoperator.vmware.com/v1alpha3/namespaces/ns/virtualmachines/vm/status',
      {},
      'vmoperator.vmware.com/virtualmachines/status:update',
    ],
    [
      'PATCH',
      '/apis/vmoperator.vmware.com/v1alpha3/namespaces/ns/virtualmachines/vm',
      { status: 200 },
      'vmoperator.vmware.com/virtualmachines:patch',
    ],
    [
      'PATCH',
      '/apis/vmoperator.vmware.com/v1alpha3/clustervirtualmachineimages/x',
      { status: 201 },
      'vmoperator.vmware.com/clustervirtualmachineimages:create',
    ],
    ['POST', '/api/v1/namespaces/ns/events', {}, '/events:create'],
    ['GET', '/api/v1/namespaces/vmop-system/configmaps/vmop-provider-config', {}, '/configmaps:get'],
    [
      'DELETE',
      '/apis/vmoperator.vmware.com/v1alpha3/namespaces/ns/virtualmachineimages/x',
      {},
      'vmoperator.vmware.com/virtualmachineimages:delete',
    ],
    [
      'PUT',
      '/apis/coordination.k8s.io/v1/namespaces/vmop-system/leases/vmop-controller-manager',
      {},
      'coordination.k8s.io/leases:update',
    ],
    ['GET', '/apis/vmoperator.vmware.com/v1alpha3', {}, undefined],
    ['GET', '/api/v1', {}, undefined],
    ['GET', '/version', {}, undefined],
  ];
  for (const [method, path, opts, expected] of rows) {
    it(`${method} ${path}${opts.watch ? ' (watch)' : ''} → ${expected ?? 'no resource'}`, () => {
      const a = rbacAttributes(method, path, opts);
      assert.equal(a ? `${a.group}/${a.resource}:${a.verb}` : undefined, expected);
    });
  }
});
