// admission.k8s.io/v1 AdmissionReview: the request shape the API server sends, and the responses vmop
// sends back (allow, allow with a JSON patch, deny with field errors worded as the API server words them).
import type { FieldError } from '../api/schema.js';
import { isPlainObject } from '../api/schema.js';

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
}

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  /** The kind as the client sent it, before the API server converted it to the version the webhook takes. */
  requestKind?: { group?: string; version?: string; kind?: string };
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo: UserInfo;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

export interface JSONPatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: {
    code: number;
    reason?: string;
    message: string;
    details?: {
      name?: string;
      group?: string;
      kind?: string;
      causes?: { reason: string; message: string; field: string }[];
    };
  };
  patch?: string;
  patchType?: 'JSONPatch';
  warnings?: string[];
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** Reads an AdmissionReview out of untrusted JSON; returns a reason string when it is not one. */
export function parseAdmissionReview(body: unknown): AdmissionRequest | string {
  if (!isPlainObject(body)) return 'the body is not a JSON object';
  if (body.kind !== 'AdmissionReview') return 'the body is not an AdmissionReview (kind must be "AdmissionReview")';
  const req = body.request;
  if (!isPlainObject(req)) return 'the AdmissionReview has no request';
  if (typeof req.uid !== 'string' || req.uid === '') return 'the AdmissionReview request has no uid';
  if (!['CREATE', 'UPDATE', 'DELETE', 'CONNECT'].includes(String(req.operation))) {
    return `the AdmissionReview request has an unknown operation ${JSON.stringify(req.operation)}`;
  }
  const userInfo = isPlainObject(req.userInfo) ? req.userInfo : {};
  return {
    uid: req.uid,
    kind: isPlainObject(req.kind) ? (req.kind as AdmissionRequest['kind']) : undefined,
    requestKind: isPlainObject(req.requestKind) ? (req.requestKind as AdmissionRequest['requestKind']) : undefined,
    name: typeof req.name === 'string' ? req.name : undefined,
    namespace: typeof req.namespace === 'string' ? req.namespace : undefined,
    subResource: typeof req.subResource === 'string' ? req.subResource : undefined,
    operation: req.operation as AdmissionRequest['operation'],
    userInfo: {
      username: typeof userInfo.username === 'string' ? userInfo.username : undefined,
      groups: Array.isArray(userInfo.groups) ? userInfo.groups.filter((g): g is string => typeof g === 'string') : [],
    },
    object: req.object,
    oldObject: req.oldObject,
    dryRun: req.dryRun === true,
  };
}

const TYPE_WORDS: Record<FieldError['type'], string> = {
  Required: 'Required value',
  Invalid: 'Invalid value',
  NotSupported: 'Unsupported value',
  TypeInvalid: 'Invalid value',
  Forbidden: 'Forbidden',
  Duplicate: 'Duplicate value',
  TooMany: 'Too many',
  TooLong: 'Too long',
};

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  return JSON.stringify(typeof value === 'object' ? 'object' : String(value));
}

/** One field error in the API server's words: `spec.x: Invalid value: "v": why`. */
export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${formatFieldErrorBody(e)}`;
}

/** The part after the field path (what a Status cause's message holds). */
export function formatFieldErrorBody(e: FieldError): string {
  const head = TYPE_WORDS[e.type];
  const hasValue = e.type !== 'Required' && e.type !== 'Forbidden' && e.value !== undefined;
  const withValue = hasValue ? `${head}: ${formatValue(e.value)}` : head;
  if (!e.detail || (e.type === 'Required' && e.detail === 'Required value')) return withValue;
  return `${withValue}: ${e.detail}`;
}

const CAUSE_REASONS: Record<FieldError['type'], string> = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  NotSupported: 'FieldValueNotSupported',
  TypeInvalid: 'FieldValueTypeInvalid',
  Forbidden: 'FieldValueForbidden',
  Duplicate: 'FieldValueDuplicate',
  TooMany: 'FieldValueTooMany',
  TooLong: 'FieldValueTooLong',
};

export function allow(uid: string, patch?: JSONPatchOp[], warnings?: string[]): AdmissionResponse {
  const res: AdmissionResponse = { uid, allowed: true };
  if (patch && patch.length > 0) {
    res.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
    res.patchType = 'JSONPatch';
  }
  if (warnings && warnings.length > 0) res.warnings = warnings;
  return res;
}

/** A 422 Invalid denial that lists every field error, as the API server lists its own. */
export function denyInvalid(
  uid: string,
  errors: FieldError[],
  target: { kind?: string; name?: string; group?: string } = {},
): AdmissionResponse {
  const lines = errors.map(formatFieldError);
  return {
    uid,
    allowed: false,
    status: {
      code: 422,
      reason: 'Invalid',
      message: lines.length === 1 ? (lines[0] ?? '') : `[${lines.join(', ')}]`,
      details: {
        name: target.name,
        group: target.group,
        kind: target.kind,
        causes: errors.map((e) => ({
          reason: CAUSE_REASONS[e.type],
          message: formatFieldErrorBody(e),
          field: e.field,
        })),
      },
    },
  };
}

/** A denial for a request that cannot be judged at all (malformed object, internal failure). */
export function denyStatus(uid: string, code: number, reason: string, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code, reason, message } };
}
