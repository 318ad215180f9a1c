// Helpers for admission tests through the real API server: VM objects, status patches, and assertions on
// the API server's answer (allowed, or denied naming the field and the rule).
import assert from 'node:assert/strict';
import { KubeAPIError, type KubeClient, type KubeObject } from '../../src/runtime/kube-client.js';
import { apiPath, type APIPath } from '../../src/runtime/api-path.js';

/** The version admission tests speak: v1alpha3, or the one VMOP_TEST_API_VERSION names (admission-v1alpha6.test). */
export const API = `vmoperator.vmware.com/${process.env.VMOP_TEST_API_VERSION ?? 'v1alpha3'}`;

export function vmObject(
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
  labels?: Record<string, string>,
): KubeObject {
  return {
    apiVersion: API,
    kind: 'VirtualMachine',
    metadata: { name, namespace, ...(labels ? { labels } : {}) },
    spec: { className: 'my-vm-class', imageName: 'vmi-0a0044d7c690bcbea', storageClass: 'my-storage-class', ...spec },
  };
}

export function vmPath(namespace: string, name: string): APIPath {
  return apiPath({ apiVersion: API, resource: 'virtualmachines', namespace, name });
}

/** A request path a test writes out itself (trusted input, unlike names from objects). */
export function rawPath(path: string): APIPath {
  return path as APIPath;
}

/** JSON merge patch of the VM (spec or metadata); resolves with the stored object. */
export function patchVM(
  c: KubeClient,
  namespace: string,
  name: string,
  patch: Record<string, unknown>,
): Promise<KubeObject> {
  return c.request<KubeObject>('PATCH', vmPath(namespace, name), {
    contentType: 'application/merge-patch+json',
    body: patch,
  });
}

/** Sets what the controller would observe (status.powerState, status.uniqueID …) through the status subresource. */
export function patchStatus(
  c: KubeClient,
  namespace: string,
  name: string,
  status: Record<string, unknown>,
): Promise<KubeObject> {
  return c.request<KubeObject>('PATCH', rawPath(`${vmPath(namespace, name)}/status`), {
    contentType: 'application/merge-patch+json',
    body: { status },
  });
}

/** Awaits a write that must be refused; checks the 422, a cause on `field`, and the message. */
export async function assertDenied(write: Promise<unknown>, field: string, message: RegExp): Promise<KubeAPIError> {
  const err = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof KubeAPIError, `expected a denial on ${field}, but the write was allowed`);
  assert.equal(err.statusCode, 422, err.message);
  const causes = err.causes.map((c) => c.field);
  assert.ok(causes.includes(field), `no cause names ${field}: ${JSON.stringify(err.causes)} (${err.message})`);
  assert.match(err.message, message);
  return err;
}

export async function assertAllowed<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    assert.fail(`expected the write to be allowed, got: ${err instanceof Error ? err.message : String(err)}`);
  }
}
