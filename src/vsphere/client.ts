// The vim25 SOAP client: envelopes from the codec, faults as VimFault, the session cookie, a keep-alive,
// and one transparent re-login and retry when vCenter says NotAuthenticated (it restarted, or the session
// expired). It knows nothing about Kubernetes.
import { VimFault, VimTransportError } from './faults.js';
import { Transport, type TLSOptions } from './transport.js';
import { decodeElement, encodeElement, type MoRef, moRef, type VimObject } from './vim25/codec.js';
import { isKnownType, properties, property } from './vim25/metadata.js';
import { child, parseXML, type XMLElement } from './xml.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface ClientOptions {
  /** vCenter base URL, e.g. https://vcenter.example.com (the SDK lives at /sdk). */
  url: string;
  tls: TLSOptions;
  credentials?: Credentials;
  maxConcurrent?: number;
  timeoutMs?: number;
  /** How often to touch the session so it does not expire; 0 turns it off. */
  keepAliveMs?: number;
  /** Called for every SOAP call with its method and duration (metrics). */
  onCall?: (method: string, ms: number, fault?: string) => void;
}

export interface ServiceContent extends VimObject {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager?: MoRef;
  sessionManager?: MoRef;
  searchIndex?: MoRef;
  taskManager?: MoRef;
  virtualDiskManager?: MoRef;
  vStorageObjectManager?: MoRef;
  customizationSpecManager?: MoRef;
  about: { apiVersion: string; version: string; fullName: string; instanceUuid?: string; [k: string]: unknown };
}

const ENVELOPE_HEAD =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" ' +
  'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" ' +
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>';
const ENVELOPE_TAIL = '</soapenv:Body></soapenv:Envelope>';

/** The SOAP request body of `method` with `_this` and arguments, in the schema's order. */
export function encodeRequest(
  method: string,
  self: MoRef,
  args: Record<string, unknown>,
  ns = 'urn:vim25',
  header = '',
): string {
  const requestType = requestTypeOf(method);
  let body = '';
  for (const p of properties(requestType)) {
    const v = p.name === '_this' ? self : args[p.name];
    if (v === undefined || v === null) {
      if (!p.optional) throw new Error(`${method}: argument "${p.name}" is required`);
      continue;
    }
    if (p.array) {
      if (!Array.isArray(v)) throw new Error(`${method}: argument "${p.name}" must be an array`);
      for (const item of v) body += encodeElement(p.name, item, p.type, `${method}.${p.name}`);
    } else body += encodeElement(p.name, v, p.type, `${method}.${p.name}`);
  }
  if (!isKnownType(requestType)) throw new Error(`unknown vim25 method ${method}`);
  for (const key of Object.keys(args)) {
    if (args[key] !== undefined && !property(requestType, key)) throw new Error(`${method} has no argument "${key}"`);
  }
  const head = header
    ? ENVELOPE_HEAD.replace('<soapenv:Body>', `<soapenv:Header>${header}</soapenv:Header><soapenv:Body>`)
    : ENVELOPE_HEAD;
  return `${head}<${method} xmlns="${ns}">${body}</${method}>${ENVELOPE_TAIL}`;
}

/** The request type of a method; task methods drop their `_Task` suffix there (CustomizeVM_Task → CustomizeVMRequestType). */
export function requestTypeOf(method: string): string {
  const direct = `${method}RequestType`;
  if (isKnownType(direct) || !method.endsWith('_Task')) return direct;
  return `${method.slice(0, -'_Task'.length)}RequestType`;
}

/** Reads a SOAP response: the decoded return value, or a VimFault. */
export function decodeResponse(method: string, xml: string): unknown {
  const envelope = parseXML(xml);
  const body = child(envelope, 'Body');
  if (!body) throw new VimTransportError(`${method}: the response has no SOAP Body`);
  const first = body.children[0];
  if (!first) return undefined;
  if (first.local === 'Fault') throw decodeFault(method, first);
  const returnval = property(`${method}Response`, 'returnval');
  const values = first.children.filter((c) => c.local === 'returnval');
  if (!returnval) return values.length === 0 ? undefined : decodeElement(values[0] as XMLElement, 'xsd:anyType');
  if (returnval.array) return values.map((v) => decodeElement(v, returnval.type));
  return values[0] ? decodeElement(values[0], returnval.type) : undefined;
}

export function decodeFault(method: string, fault: XMLElement): VimFault {
  const message = child(fault, 'faultstring')?.text ?? 'unknown fault';
  const detail = child(fault, 'detail')?.children[0];
  if (!detail) return new VimFault('SystemError', message, {}, method);
  const type = (detail.attrs['xsi:type'] ?? detail.local.replace(/Fault$/, '')).replace(/^.*:/, '');
  const fields = decodeElement(detail, type) as Record<string, unknown>;
  delete fields._typeName;
  return new VimFault(type, message, fields, method);
}

export const SERVICE_INSTANCE = moRef('ServiceInstance', 'ServiceInstance');

export class VimClient {
  readonly transport: Transport;
  private cookie?: string;
  private apiVersion = '8.0.3.0';
  private content?: ServiceContent;
  private loggingIn?: Promise<void>;
  private keepAlive?: NodeJS.Timeout;

  private constructor(private readonly opts: ClientOptions) {
    this.transport = new Transport({
      url: opts.url,
      tls: opts.tls,
      maxConcurrent: opts.maxConcurrent,
      timeoutMs: opts.timeoutMs,
    });
  }

  /** Connects, reads the ServiceContent and, with credentials, logs in. */
  static async connect(opts: ClientOptions): Promise<VimClient> {
    const client = new VimClient(opts);
    try {
      client.content = (await client.rawCall('RetrieveServiceContent', SERVICE_INSTANCE, {})) as ServiceContent;
      client.apiVersion = client.content.about.apiVersion || client.apiVersion;
      if (opts.credentials) await client.login();
      const every = opts.keepAliveMs ?? 5 * 60_000;
      if (every > 0) {
        client.keepAlive = setInterval(
          () => void client.call('CurrentTime', SERVICE_INSTANCE).catch(() => undefined),
          every,
        );
        client.keepAlive.unref();
      }
      return client;
    } catch (err) {
      client.transport.close();
      throw err;
    }
  }

  get serviceContent(): ServiceContent {
    if (!this.content) throw new Error('not connected');
    return this.content;
  }

  /** Logs in with the configured credentials (one login at a time, shared by concurrent callers). */
  login(): Promise<void> {
    const creds = this.opts.credentials;
    if (!creds) return Promise.reject(new Error('no credentials configured'));
    if (!this.loggingIn) {
      this.loggingIn = (async () => {
        this.cookie = undefined;
        const sessionManager = this.serviceContent.sessionManager;
        if (!sessionManager) throw new Error('this endpoint has no SessionManager');
        await this.rawCall('Login', sessionManager, { userName: creds.username, password: creds.password });
      })().finally(() => {
        this.loggingIn = undefined;
      });
    }
    return this.loggingIn;
  }

  async logout(): Promise<void> {
    if (this.keepAlive) clearInterval(this.keepAlive);
    const sessionManager = this.content?.sessionManager;
    if (this.cookie && sessionManager) await this.rawCall('Logout', sessionManager, {}).catch(() => undefined);
    this.cookie = undefined;
    this.transport.close();
  }

  /** The session cookie value (for the vAPI REST endpoint, which accepts the SOAP session). */
  get sessionCookie(): string | undefined {
    return this.cookie;
  }

  /** Calls `method` on `self`; logs in again and retries once if the session is gone. */
  async call<T = unknown>(
    method: string,
    self: MoRef,
    args: Record<string, unknown> = {},
    signal?: AbortSignal,
  ): Promise<T> {
    try {
      return (await this.rawCallRetryingReads(method, self, args, signal)) as T;
    } catch (err) {
      if (!(err instanceof VimFault && err.is('NotAuthenticated')) || !this.opts.credentials || method === 'Login')
        throw err;
      await this.login();
      return (await this.rawCall(method, self, args, signal)) as T;
    }
  }

  /**
   * Look-ups and property reads change nothing, so a dropped connection (vcsim drops one when a handler
   * panics on an object that is being created) is retried twice; anything else fails at once.
   */
  private async rawCallRetryingReads(
    method: string,
    self: MoRef,
    args: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const idempotent = /^(Find|Retrieve|Query|CurrentTime$)/.test(method);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.rawCall(method, self, args, signal);
      } catch (err) {
        if (!idempotent || attempt >= 3 || !(err instanceof VimTransportError) || signal?.aborted) throw err;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  private async rawCall(
    method: string,
    self: MoRef,
    args: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const body = encodeRequest(method, self, args);
    const started = performance.now();
    const headers: Record<string, string> = {
      'Content-Type': 'text/xml; charset=utf-8',
      SOAPAction: `urn:vim25/${this.apiVersion}`,
    };
    if (this.cookie) headers.Cookie = `vmware_soap_session=${this.cookie}`;
    let fault: string | undefined;
    try {
      const res = await this.transport.request('POST', '/sdk', { body, headers, signal });
      const setCookie = res.headers['set-cookie'];
      for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
        const m = /vmware_soap_session=("?[^";]+"?)/.exec(c);
        if (m?.[1]) this.cookie = m[1];
      }
      if (res.status !== 200 && res.status !== 500) {
        throw new VimTransportError(
          `${method}: HTTP ${res.status} from ${this.transport.base.host}`,
          `HTTP_${res.status}`,
        );
      }
      return decodeResponse(method, res.body);
    } catch (err) {
      fault =
        err instanceof VimFault
          ? err.faultType
          : err instanceof VimTransportError
            ? `transport:${err.code ?? ''}`
            : 'error';
      throw err;
    } finally {
      this.opts.onCall?.(method, performance.now() - started, fault);
    }
  }
}
