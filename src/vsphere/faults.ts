// SOAP faults as typed errors: the vim25 fault type (InvalidPowerState, NotAuthenticated, …) with its fields,
// the server's message, and whether trying again can help. Credentials never reach these messages.
import { isSubtype } from './vim25/metadata.js';

const RETRYABLE = new Set([
  'TaskInProgress',
  'ConcurrentAccess',
  'HostCommunication',
  'NotAuthenticated',
  'RequestCanceled',
  'SystemError',
]);

export class VimFault extends Error {
  readonly retryable: boolean;
  constructor(
    /** The vim25 fault type, e.g. InvalidPowerState. */
    readonly faultType: string,
    message: string,
    /** The fault's own fields (e.g. requestedState, existingState). */
    readonly fields: Record<string, unknown> = {},
    readonly method?: string,
  ) {
    super(`${method ? `${method}: ` : ''}${faultType}: ${message}`);
    this.name = 'VimFault';
    this.retryable = RETRYABLE.has(faultType) || [...RETRYABLE].some((r) => isSubtype(faultType, r));
  }

  /** True when the fault is `type` or one of its subtypes (e.g. is('InvalidState') for InvalidPowerState). */
  is(type: string): boolean {
    return this.faultType === type || isSubtype(this.faultType, type);
  }
}

/** The transport failed (connection refused, reset, timed out, TLS); the request may not have reached vSphere. */
export class VimTransportError extends Error {
  readonly retryable = true;
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'VimTransportError';
  }
}
