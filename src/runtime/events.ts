// Kubernetes Events on the objects a controller works on (core/v1, as `kubectl describe` shows them). A
// repeat of the same reason and message on the same object bumps the count of the existing Event.
import { randomBytes } from 'node:crypto';
import type { Logger } from './logger.js';
import { KubeAPIError, type KubeClient, type KubeObject } from './kube-client.js';
import { apiPath } from './api-path.js';
import { bounded } from './status.js';

export type EventType = 'Normal' | 'Warning';

/** Event messages are cut to this length (they quote names and values from objects). */
export const MAX_EVENT_MESSAGE = 1024;

interface CoreEvent extends KubeObject {
  count?: number;
  lastTimestamp?: string;
}

export class EventRecorder {
  private readonly recent = new Map<string, string>();

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly logger?: Logger,
  ) {}

  /** Records an event; failures are logged, never thrown (an event is not worth failing a reconcile). */
  async record(
    obj: KubeObject & { metadata: { uid?: string } },
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const ns = obj.metadata.namespace ?? 'default';
    message = bounded(message, MAX_EVENT_MESSAGE);
    const dedupe = `${ns}/${obj.metadata.name}/${obj.metadata.uid}/${type}/${reason}/${message}`;
    const now = new Date().toISOString();
    try {
      const existing = this.recent.get(dedupe);
      if (existing) {
        try {
          const path = apiPath({ apiVersion: 'v1', resource: 'events', namespace: ns, name: existing });
          const ev = await this.client.request<CoreEvent>('GET', path);
          await this.client.request('PATCH', path, {
            contentType: 'application/merge-patch+json',
            body: { count: (ev.count ?? 1) + 1, lastTimestamp: now },
          });
          return;
        } catch (err) {
          if (!(err instanceof KubeAPIError && err.notFound)) throw err;
        }
      }
      const name = `${obj.metadata.name}.${randomBytes(8).toString('hex')}`;
      await this.client.request('POST', apiPath({ apiVersion: 'v1', resource: 'events', namespace: ns }), {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace: ns },
          involvedObject: {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: obj.metadata.name,
            namespace: ns,
            uid: obj.metadata.uid,
            resourceVersion: obj.metadata.resourceVersion,
          },
          type,
          reason,
          message,
          source: { component: this.component },
          reportingComponent: this.component,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      this.recent.set(dedupe, name);
      if (this.recent.size > 10_000) this.recent.delete(this.recent.keys().next().value as string);
    } catch (err) {
      this.logger?.warn({ err: err instanceof Error ? err.message : err, reason }, 'cannot record event');
    }
  }
}
