// The one way a Kubernetes REST path is made: every segment (API group and version, namespace, resource,
// name, subresource) is checked against the rule the API server applies to it and percent-encoded, so a name
// taken from an object ("../../vmop-system/secrets/x", "%2e%2e", "a/b") can never move a request to another
// namespace or resource. KubeClient only sends paths of this type.

import { isDNSLabel, isDNSSubdomain } from '../api/names.js';

declare const apiPathBrand: unique symbol;

/** A REST path built by `apiPath` (or one of KubeClient's path helpers); plain strings do not type-check. */
export type APIPath = string & { readonly [apiPathBrand]: true };

/** A segment that may not be used in a request path; names the part and the rule. */
export class InvalidPathSegmentError extends Error {
  constructor(
    readonly part: string,
    readonly value: string,
    readonly rule: string,
  ) {
    super(`${part} ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)} ${rule}`);
    this.name = 'InvalidPathSegmentError';
  }
}

const VERSION = /^v[0-9]+((alpha|beta)[0-9]+)?$/;
const RESOURCE = /^[a-z][a-z0-9.-]*$/;

/**
 * An object name as a path segment: checked by the API server's rule for names in paths (apimachinery's path
 * segment validation), then percent-encoded.
 */
function nameSegment(part: string, value: string): string {
  if (value === '') throw new InvalidPathSegmentError(part, value, 'may not be empty');
  if (value.length > 253) throw new InvalidPathSegmentError(part, value, 'may not be longer than 253 characters');
  if (value === '.' || value === '..') throw new InvalidPathSegmentError(part, value, 'may not be "." or ".."');
  if (/[/%]/.test(value)) throw new InvalidPathSegmentError(part, value, 'may not contain "/" or "%"');
  // Control characters and non-ASCII are not in any name the API server stores.
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new InvalidPathSegmentError(part, value, 'may contain only printable ASCII characters');
  }
  return encodeURIComponent(value);
}

/** A subresource ("status", "finalizers") as a path segment. */
function subresourceSegment(value: string): string {
  if (!/^[a-z]+$/.test(value)) throw new InvalidPathSegmentError('subresource', value, 'must be lower-case letters');
  return value;
}

export interface PathParts {
  /** "v1" (the core group) or "group/version". */
  apiVersion: string;
  /** Plural resource name, e.g. "secrets"; omitted for the group's discovery document. */
  resource?: string;
  namespace?: string;
  name?: string;
  /** "status", "finalizers", … (needs a name). */
  subresource?: string;
}

/** The REST path of a group version, a collection or one object; throws InvalidPathSegmentError. */
export function apiPath(parts: PathParts): APIPath {
  const segments: string[] = [];
  const [group, version] = parts.apiVersion.includes('/')
    ? parts.apiVersion.split('/', 2)
    : [undefined, parts.apiVersion];
  if (group !== undefined) {
    if (!isDNSSubdomain(group) || parts.apiVersion.split('/').length !== 2) {
      throw new InvalidPathSegmentError('API group', group, 'must be a DNS subdomain');
    }
    segments.push('apis', group);
  } else segments.push('api');
  if (!version || !VERSION.test(version)) {
    throw new InvalidPathSegmentError('API version', version ?? '', 'must look like v1, v1beta2 or v1alpha3');
  }
  segments.push(version);
  if (parts.namespace !== undefined) {
    if (!isDNSLabel(parts.namespace)) {
      throw new InvalidPathSegmentError('namespace', parts.namespace, 'must be a DNS-1123 label');
    }
    if (parts.resource === undefined) throw new InvalidPathSegmentError('resource', '', 'is needed with a namespace');
    segments.push('namespaces', parts.namespace);
  }
  if (parts.resource !== undefined) {
    if (!RESOURCE.test(parts.resource) || parts.resource.length > 253) {
      throw new InvalidPathSegmentError('resource', parts.resource, 'must be a lower-case plural resource name');
    }
    segments.push(parts.resource);
  } else if (parts.name !== undefined) {
    throw new InvalidPathSegmentError('resource', '', 'is needed with a name');
  }
  if (parts.name !== undefined) segments.push(nameSegment(`${parts.resource ?? 'object'} name`, parts.name));
  if (parts.subresource !== undefined) {
    if (parts.name === undefined) throw new InvalidPathSegmentError('name', '', 'is needed with a subresource');
    segments.push(subresourceSegment(parts.subresource));
  }
  return `/${segments.join('/')}` as APIPath;
}

/** Appends a subresource ("status") to an object path. */
export function subresourcePath(objectPath: APIPath, subresource: string): APIPath {
  return `${objectPath}/${subresourceSegment(subresource)}` as APIPath;
}

/** Appends an object name to a collection path (checked and encoded as apiPath does). */
export function memberPath(collection: APIPath, name: string): APIPath {
  return `${collection}/${nameSegment('name', name)}` as APIPath;
}
