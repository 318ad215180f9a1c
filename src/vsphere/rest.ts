// The vAPI REST endpoint (/rest): a session of its own (re-created once on 401), content libraries and their
// items, pushing an OVF into a library, reading an item's files, and deploying an OVF library item.
import { Transport, type TLSOptions } from './transport.js';
import type { Credentials } from './client.js';

export class VapiError extends Error {
  constructor(
    readonly status: number,
    /** The vAPI error type, e.g. com.vmware.vapi.std.errors.not_found. */
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = 'VapiError';
  }
  get notFound(): boolean {
    return this.status === 404 || this.errorType.endsWith('not_found');
  }
}

export interface Library {
  id: string;
  name: string;
  type?: string;
  description?: string;
  storage_backings?: { datastore_id?: string; type: string }[];
}

export interface LibraryItem {
  id: string;
  library_id: string;
  name: string;
  type?: string;
  description?: string;
  content_version?: string;
  metadata_version?: string;
  creation_time?: string;
  last_modified_time?: string;
  size?: number;
  cached?: boolean;
}

export interface DeployTarget {
  resourcePoolId: string;
  folderId?: string;
  hostId?: string;
}

export interface DeploySpec {
  name: string;
  datastoreId?: string;
  storageProfileId?: string;
  annotation?: string;
  /** A VirtualMachineConfigSpec as vim25 XML, applied by vCenter while it deploys (vSphere 8.0 U2 and later). */
  vmConfigSpecXML?: string;
}

const SESSION_HEADER = 'vmware-api-session-id';

/** How long an OVF deploy may take before the client gives up on its answer (a real one takes minutes). */
export const DEPLOY_TIMEOUT_MS = 60 * 60_000;

export class VapiClient {
  private session?: string;
  private loggingIn?: Promise<void>;

  constructor(
    readonly transport: Transport,
    private readonly credentials: Credentials,
  ) {}

  static create(opts: { url: string; tls: TLSOptions; credentials: Credentials; maxConcurrent?: number }): VapiClient {
    return new VapiClient(
      new Transport({ url: opts.url, tls: opts.tls, maxConcurrent: opts.maxConcurrent }),
      opts.credentials,
    );
  }

  login(): Promise<void> {
    this.loggingIn ??= (async () => {
      const basic = Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64');
      const res = await this.transport.request('POST', '/rest/com/vmware/cis/session', {
        headers: { Authorization: `Basic ${basic}` },
      });
      if (res.status !== 200) throw errorOf(res.status, res.body, 'vAPI login');
      this.session = (JSON.parse(res.body) as { value: string }).value;
    })().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  async logout(): Promise<void> {
    if (this.session)
      await this.transport
        .request('DELETE', '/rest/com/vmware/cis/session', { headers: { [SESSION_HEADER]: this.session } })
        .catch(() => undefined);
    this.session = undefined;
    this.transport.close();
  }

  /** Sends a request; `value` of the JSON answer is returned. Logs in when needed, and again once on 401. */
  /** Sees every REST call (HTTP method, path without IDs, milliseconds); the manager turns it into metrics. */
  onCall?: (method: string, path: string, ms: number) => void;

  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    query: Record<string, string> = {},
    opts: { timeoutMs?: number } = {},
  ): Promise<T> {
    const started = performance.now();
    try {
      return await this.callOnce<T>(method, path, body, query, opts.timeoutMs);
    } finally {
      this.onCall?.(method, path.replace(/id:[^/?]+/g, 'id:ID'), performance.now() - started);
    }
  }

  private async callOnce<T>(
    method: string,
    path: string,
    body: unknown,
    query: Record<string, string>,
    timeoutMs: number | undefined,
  ): Promise<T> {
    if (!this.session) await this.login();
    const url = `/rest${path}${Object.keys(query).length ? `?${new URLSearchParams(query)}` : ''}`;
    const send = () =>
      this.transport.request(method, url, {
        timeoutMs,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: {
          [SESSION_HEADER]: this.session ?? '',
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
      });
    let res = await send();
    if (res.status === 401) {
      await this.login();
      res = await send();
    }
    if (res.status < 200 || res.status >= 300) throw errorOf(res.status, res.body, `${method} ${path}`);
    if (!res.body) return undefined as T;
    return (JSON.parse(res.body) as { value: T }).value;
  }

  // Libraries

  async listLibraries(): Promise<string[]> {
    return (await this.call<string[] | null>('GET', '/com/vmware/content/library')) ?? [];
  }

  getLibrary(id: string): Promise<Library> {
    return this.call<Library>('GET', `/com/vmware/content/library/id:${encodeURIComponent(id)}`);
  }

  async findLibrary(name: string): Promise<string | undefined> {
    const ids = await this.call<string[]>(
      'POST',
      '/com/vmware/content/library',
      { spec: { name } },
      { '~action': 'find' },
    );
    return ids[0];
  }

  createLocalLibrary(name: string, datastoreId: string): Promise<string> {
    return this.call<string>('POST', '/com/vmware/content/local-library', {
      create_spec: { name, type: 'LOCAL', storage_backings: [{ type: 'DATASTORE', datastore_id: datastoreId }] },
    });
  }

  deleteLibrary(id: string): Promise<void> {
    return this.call<void>('DELETE', `/com/vmware/content/local-library/id:${encodeURIComponent(id)}`);
  }

  // Items

  /** Item IDs of a library (an empty library answers null). */
  async listItems(libraryId: string): Promise<string[]> {
    return (
      (await this.call<string[] | null>('GET', '/com/vmware/content/library/item', undefined, {
        library_id: libraryId,
      })) ?? []
    );
  }

  getItem(id: string): Promise<LibraryItem> {
    return this.call<LibraryItem>('GET', `/com/vmware/content/library/item/id:${encodeURIComponent(id)}`);
  }

  createItem(libraryId: string, name: string, type = 'ovf'): Promise<string> {
    return this.call<string>('POST', '/com/vmware/content/library/item', {
      create_spec: { library_id: libraryId, name, type },
    });
  }

  deleteItem(id: string): Promise<void> {
    return this.call<void>('DELETE', `/com/vmware/content/library/item/id:${encodeURIComponent(id)}`);
  }

  /** The files of an item (name, size). */
  listFiles(itemId: string): Promise<{ name: string; size?: number }[]> {
    return this.call<{ name: string; size?: number }[]>('GET', '/com/vmware/content/library/item/file', undefined, {
      library_item_id: itemId,
    });
  }

  /** Where an item's files are stored: each file's name and storage URIs (ds:///vmfs/volumes/…/file.iso on vCenter). */
  itemStorage(itemId: string): Promise<{ name: string; storage_uris: string[] }[]> {
    return this.call<{ name: string; storage_uris: string[] }[]>(
      'GET',
      '/com/vmware/content/library/item/storage',
      undefined,
      { library_item_id: itemId },
    );
  }

  /** Creates an OVF item from the descriptor's text (an update session: add file, PUT, complete). */
  async importOVF(libraryId: string, name: string, ovf: string): Promise<string> {
    const itemId = await this.createItem(libraryId, name, 'ovf');
    const session = await this.call<string>('POST', '/com/vmware/content/library/item/update-session', {
      create_spec: { library_item_id: itemId },
    });
    try {
      const file = await this.call<{ upload_endpoint: { uri: string } }>(
        'POST',
        `/com/vmware/content/library/item/updatesession/file/id:${encodeURIComponent(session)}`,
        { file_spec: { name: `${name}.ovf`, source_type: 'PUSH', size: Buffer.byteLength(ovf) } },
        { '~action': 'add' },
      );
      const upload = new URL(file.upload_endpoint.uri);
      const res = await this.transport.request('PUT', upload.pathname + upload.search, {
        body: ovf,
        headers: { [SESSION_HEADER]: this.session ?? '', 'Content-Type': 'application/octet-stream' },
      });
      if (res.status < 200 || res.status >= 300) throw errorOf(res.status, res.body, 'upload of the OVF descriptor');
      await this.call(
        'POST',
        `/com/vmware/content/library/item/update-session/id:${encodeURIComponent(session)}`,
        undefined,
        {
          '~action': 'complete',
        },
      );
    } catch (err) {
      await this.call(
        'POST',
        `/com/vmware/content/library/item/update-session/id:${encodeURIComponent(session)}`,
        undefined,
        {
          '~action': 'fail',
        },
      ).catch(() => undefined);
      throw err;
    }
    return itemId;
  }

  /** Downloads one file of an item (e.g. its .ovf descriptor) through a download session. */
  async readItemFile(itemId: string, fileName: string): Promise<string> {
    const session = await this.call<string>('POST', '/com/vmware/content/library/item/download-session', {
      create_spec: { library_item_id: itemId },
    });
    try {
      await this.call(
        'POST',
        `/com/vmware/content/library/item/downloadsession/file/id:${encodeURIComponent(session)}`,
        { file_name: fileName },
        { '~action': 'prepare' },
      );
      const info = await this.call<{ download_endpoint?: { uri: string } }>(
        'POST',
        `/com/vmware/content/library/item/downloadsession/file/id:${encodeURIComponent(session)}`,
        { file_name: fileName },
        { '~action': 'get' },
      );
      if (!info.download_endpoint)
        throw new VapiError(500, 'not_prepared', `the file ${fileName} of item ${itemId} has no download endpoint`);
      const uri = new URL(info.download_endpoint.uri);
      const res = await this.transport.request('GET', uri.pathname + uri.search, {
        headers: { [SESSION_HEADER]: this.session ?? '' },
      });
      if (res.status !== 200) throw errorOf(res.status, res.body, `download of ${fileName}`);
      return res.body;
    } finally {
      await this.call(
        'DELETE',
        `/com/vmware/content/library/item/download-session/id:${encodeURIComponent(session)}`,
      ).catch(() => undefined);
    }
  }

  /** Deploys an OVF library item as a VM; returns the VM's managed object ID (waits as long as it takes). */
  async deployOVF(itemId: string, target: DeployTarget, spec: DeploySpec): Promise<string> {
    const result = await this.call<{
      succeeded: boolean;
      resource_id?: { type: string; id: string };
      error?: { errors?: { error?: { messages?: { default_message?: string }[] } }[] };
    }>(
      'POST',
      `/com/vmware/vcenter/ovf/library-item/id:${encodeURIComponent(itemId)}`,
      {
        target: { resource_pool_id: target.resourcePoolId, folder_id: target.folderId, host_id: target.hostId },
        deployment_spec: {
          name: spec.name,
          accept_all_EULA: true,
          default_datastore_id: spec.datastoreId,
          storage_profile_id: spec.storageProfileId,
          annotation: spec.annotation,
          vm_config_spec: spec.vmConfigSpecXML
            ? { provider: 'XML', xml: Buffer.from(spec.vmConfigSpecXML).toString('base64') }
            : undefined,
        },
      },
      { '~action': 'deploy' },
      // The deploy is one call that answers when the VM is there: minutes on a real vCenter, so not the
      // transport's usual minute.
      { timeoutMs: DEPLOY_TIMEOUT_MS },
    );
    if (!result.succeeded || !result.resource_id) {
      const messages =
        result.error?.errors?.flatMap((e) => e.error?.messages?.map((m) => m.default_message ?? '') ?? []) ?? [];
      throw new VapiError(
        500,
        'deploy_failed',
        `deploying library item ${itemId} failed: ${messages.join('; ') || 'no reason given'}`,
      );
    }
    return result.resource_id.id;
  }
}

function errorOf(status: number, body: string, what: string): VapiError {
  let type = `http_${status}`;
  let message = body.slice(0, 300);
  try {
    const parsed = JSON.parse(body) as { type?: string; value?: { messages?: { default_message?: string }[] } };
    if (parsed.type) type = parsed.type;
    const m = parsed.value?.messages?.map((x) => x.default_message).filter(Boolean);
    if (m?.length) message = m.join('; ');
  } catch {
    // not JSON: keep the text
  }
  return new VapiError(status, type, `${what}: HTTP ${status} ${type}${message ? `: ${message}` : ''}`);
}
