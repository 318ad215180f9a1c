// The admission handlers behind each webhook path: they turn an AdmissionRequest into an AdmissionResponse
// and never throw (an internal failure becomes a 500 denial that says so).
import { errorMessage } from '../runtime/errors.js';
import { GROUP, VERSION } from '../api/v1alpha6/common.js';
import type { FieldError } from '../api/schema.js';
import { fieldPathIn, type VersionedKind } from '../api/versions.js';
import { allow, denyInvalid, denyStatus, type AdmissionRequest, type AdmissionResponse } from './admission.js';
import { diff } from './json-patch.js';
import { isPrivileged, type PrivilegeConfig } from './privileged.js';
import type { ImageCatalog } from './virtualmachine/images.js';
import { mutateVirtualMachine, resolveImageName } from './virtualmachine/mutate.js';
import { validateVirtualMachine } from './virtualmachine/validate/index.js';
import { validateVirtualMachineClass } from './virtualmachineclass/validate.js';

export type Handler = (req: AdmissionRequest) => AdmissionResponse | Promise<AdmissionResponse>;

export interface HandlerOptions extends PrivilegeConfig {
  now?: () => Date;
  /** Resolves spec.imageName at create into spec.image (without it, imageName is left to the controller). */
  images?: ImageCatalog;
}

export const PATHS = {
  mutateVirtualMachine: `/default-mutate-vmoperator-vmware-com-${VERSION}-virtualmachine`,
  validateVirtualMachine: `/default-validate-vmoperator-vmware-com-${VERSION}-virtualmachine`,
  validateVirtualMachineClass: `/default-validate-vmoperator-vmware-com-${VERSION}-virtualmachineclass`,
} as const;

function objectName(req: AdmissionRequest): string | undefined {
  const obj = req.object as { metadata?: { name?: unknown } } | undefined;
  const name = obj?.metadata?.name;
  return req.name ?? (typeof name === 'string' ? name : undefined);
}

/** The errors' field paths in the version the client wrote (admission sees the hub version). */
function inRequestVersion(req: AdmissionRequest, kind: VersionedKind, errors: FieldError[]): FieldError[] {
  const version = req.requestKind?.version;
  return errors.map((e) => ({ ...e, field: fieldPathIn(kind, version, e.field) }));
}

function guarded(kind: string, handler: Handler): Handler {
  return async (req) => {
    try {
      if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allow(req.uid);
      if (req.kind?.kind && req.kind.kind !== kind) {
        return denyStatus(req.uid, 400, 'BadRequest', `this webhook admits ${kind} objects, not ${req.kind.kind}`);
      }
      return await handler(req);
    } catch (err) {
      return denyStatus(
        req.uid,
        500,
        'InternalError',
        `vmop admission failed unexpectedly for ${kind} ${objectName(req) ?? ''}: ${errorMessage(err)}`,
      );
    }
  };
}

export function createHandlers(opts: HandlerOptions): Record<string, Handler> {
  const now = opts.now ?? (() => new Date());
  const privileged = (req: AdmissionRequest) => isPrivileged(req.userInfo, opts);
  const target = (req: AdmissionRequest, kind: string) => ({ kind, group: GROUP, name: objectName(req) });
  const vmErrors = (req: AdmissionRequest, errors: FieldError[]) => inRequestVersion(req, 'VirtualMachine', errors);
  return {
    [PATHS.mutateVirtualMachine]: guarded('VirtualMachine', async (req) => {
      const result = mutateVirtualMachine({
        operation: req.operation as 'CREATE' | 'UPDATE',
        object: req.object,
        oldObject: req.oldObject,
        privileged: privileged(req),
        now,
      });
      if ('errors' in result) return denyInvalid(req.uid, vmErrors(req, result.errors), target(req, 'VirtualMachine'));
      if (req.operation === 'CREATE' && opts.images) {
        const errors = await resolveImageName(result.object, opts.images);
        if (errors.length > 0) return denyInvalid(req.uid, vmErrors(req, errors), target(req, 'VirtualMachine'));
      }
      return allow(req.uid, diff(req.object, result.object));
    }),
    [PATHS.validateVirtualMachine]: guarded('VirtualMachine', (req) => {
      const errors = validateVirtualMachine({
        operation: req.operation as 'CREATE' | 'UPDATE',
        object: req.object,
        oldObject: req.oldObject,
        privileged: privileged(req),
      });
      return errors.length > 0
        ? denyInvalid(req.uid, vmErrors(req, errors), target(req, 'VirtualMachine'))
        : allow(req.uid);
    }),
    [PATHS.validateVirtualMachineClass]: guarded('VirtualMachineClass', (req) => {
      const errors = validateVirtualMachineClass(req.object, req.oldObject);
      return errors.length > 0 ? denyInvalid(req.uid, errors, target(req, 'VirtualMachineClass')) : allow(req.uid);
    }),
  };
}
