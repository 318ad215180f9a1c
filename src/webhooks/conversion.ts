// The CRDs' conversion webhook: a ConversionReview (apiextensions.k8s.io/v1) names the version wanted and
// carries objects of any served version; each comes back converted through the hub (api/conversion). An
// object that cannot be converted fails the whole review with a message naming it, as the API server expects.
import { isPlainObject } from '../api/schema.js';
import { converterFor, isVersionedKind } from '../api/versions.js';
import { errorMessage } from '../runtime/errors.js';
import type { Reply, ReviewHandler } from './server.js';

/** Where the CRDs' conversion webhook is served. */
export const CONVERSION_PATH = '/convert';

/** A list's conversion carries all its objects: a larger bound than an admission review's. */
export const MAX_CONVERSION_BODY_BYTES = 20 * 1024 * 1024;

function review(uid: unknown, response: Record<string, unknown>): Reply {
  const body = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'ConversionReview',
    response: { uid: typeof uid === 'string' ? uid : '', ...response },
  };
  const failed = (response.result as { status?: string } | undefined)?.status === 'Failure';
  return { status: 200, body: JSON.stringify(body), verdict: failed ? 'denied' : 'allowed' };
}

const failure = (uid: unknown, message: string) => review(uid, { result: { status: 'Failure', message } });

/** Converts a ConversionReview's objects to its desiredAPIVersion. */
export function convertReview(body: unknown): Reply {
  const request = isPlainObject(body) && isPlainObject(body.request) ? body.request : undefined;
  if (!request || typeof request.uid !== 'string') {
    return {
      status: 400,
      body: JSON.stringify({ error: 'expected an apiextensions.k8s.io/v1 ConversionReview' }),
      verdict: 'error',
    };
  }
  const { uid, desiredAPIVersion, objects } = request;
  if (typeof desiredAPIVersion !== 'string' || !Array.isArray(objects)) {
    return failure(uid, 'the ConversionReview needs desiredAPIVersion and objects');
  }
  const converted: unknown[] = [];
  for (const [i, obj] of objects.entries()) {
    const name = isPlainObject(obj) && isPlainObject(obj.metadata) ? String(obj.metadata.name) : `#${i}`;
    if (!isPlainObject(obj) || !isVersionedKind(obj.kind)) {
      return failure(
        uid,
        `object ${name}: kind ${String(isPlainObject(obj) ? obj.kind : obj)} is not one vmop converts`,
      );
    }
    try {
      converted.push(converterFor(obj.kind).convert(obj, desiredAPIVersion));
    } catch (err) {
      return failure(uid, `${obj.kind} ${name}: ${errorMessage(err)}`);
    }
  }
  return review(uid, { result: { status: 'Success' }, convertedObjects: converted });
}

export const conversionHandler: ReviewHandler = { review: convertReview, maxBodyBytes: MAX_CONVERSION_BODY_BYTES };
