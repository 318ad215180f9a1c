// One vSphere connection for the operator, built from the provider configuration and credentials Secret.
// When either changes, the next use connects again, so a rotated password needs no restart.
import { VSphereAPI } from '../../vsphere/api.js';
import { VimClient } from '../../vsphere/client.js';
import { VapiClient } from '../../vsphere/rest.js';
import type { ProviderConfig } from './config.js';

export interface Connection {
  api: VSphereAPI;
  rest: VapiClient;
  config: ProviderConfig;
}

export interface Credentials {
  username: string;
  password: string;
}

export class VSphereSession {
  private current?: Promise<Connection>;
  private fingerprint = '';

  /** `onCall` sees every SOAP call (method, duration, fault type) — the manager turns it into metrics. */
  constructor(
    private readonly onCall?: (method: string, ms: number, fault?: string) => void,
    private readonly onRestCall?: (method: string, path: string, ms: number) => void,
  ) {}

  /** The connection for this configuration, reusing the open one while nothing changed. */
  async connect(config: ProviderConfig, credentials: Credentials): Promise<Connection> {
    const fingerprint = JSON.stringify([config.vcenter, config.tls, credentials.username, credentials.password]);
    if (this.current && fingerprint === this.fingerprint) return this.current;
    // Set before anything is awaited: callers that arrive meanwhile share this connection, not open their own.
    const previous = this.current;
    this.fingerprint = fingerprint;
    const opening = (async () => {
      if (previous) await closeConnection(previous);
      const vim = await VimClient.connect({ url: config.vcenter, tls: config.tls, credentials, onCall: this.onCall });
      const rest = VapiClient.create({ url: config.vcenter, tls: config.tls, credentials });
      rest.onCall = this.onRestCall;
      return { api: new VSphereAPI(vim), rest, config };
    })();
    this.current = opening;
    opening.catch(() => {
      if (this.current === opening) this.current = undefined;
    });
    return opening;
  }

  async close(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    if (c) await closeConnection(c);
  }
}

async function closeConnection(c: Promise<Connection>): Promise<void> {
  const conn = await c.catch(() => undefined);
  await conn?.api.client.logout().catch(() => undefined);
  await conn?.rest.logout().catch(() => undefined);
}
