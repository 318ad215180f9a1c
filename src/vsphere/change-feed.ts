// A change feed over every object of some types: one property collector of its own, a container view and a
// filter, then WaitForUpdatesEx with versions in a loop. The first batch holds every object ("enter"), then
// only changes arrive. If vCenter loses the collector (it restarted), the feed builds it again and starts
// over with a full batch, so a consumer never misses a change.
import type { VimClient } from './client.js';
import { PropertyCollector, viewTraversal, type ObjectUpdate } from './property-collector.js';
import type { MoRef } from './vim25/codec.js';

export interface ChangeFeedOptions {
  types: string[];
  paths: string[];
  /** Paths for some types instead of `paths`. */
  pathsByType?: Record<string, string[]>;
  onUpdates: (updates: ObjectUpdate[], initial: boolean) => void;
  onError?: (err: unknown) => void;
  /** Seconds each WaitForUpdatesEx may block. */
  waitSeconds?: number;
  /** Pause after an error before trying again. */
  retryMs?: number;
}

export class ChangeFeed {
  private readonly abort = new AbortController();
  private running?: Promise<void>;

  constructor(
    private readonly client: VimClient,
    private readonly opts: ChangeFeedOptions,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let collector: PropertyCollector | undefined;
      let view: MoRef | undefined;
      try {
        const base = new PropertyCollector(this.client);
        collector = await base.createCollector();
        view = await base.createContainerView(this.opts.types);
        await collector.createFilter({
          _typeName: 'PropertyFilterSpec',
          propSet: this.opts.types.map((type) => ({
            _typeName: 'PropertySpec',
            type,
            pathSet: this.opts.pathsByType?.[type] ?? this.opts.paths,
          })),
          objectSet: [viewTraversal(view)],
        });
        let version = '';
        while (!signal.aborted) {
          const set = await collector.waitForUpdates(version, { maxWaitSeconds: this.opts.waitSeconds ?? 30, signal });
          if (!set) continue;
          const initial = version === '';
          version = set.version;
          const updates = (set.filterSet ?? []).flatMap((f) => f.objectSet ?? []);
          if (updates.length > 0 || initial) this.opts.onUpdates(updates, initial);
        }
      } catch (err) {
        if (signal.aborted) break;
        // Whatever failed (vCenter restarted and lost the collector, the connection dropped), the collector,
        // view and filter are built again on the next turn and the consumer gets a full batch.
        this.opts.onError?.(err);
        await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 1000));
      } finally {
        if (collector) await collector.destroy().catch(() => undefined);
        if (view) await this.client.call('DestroyView', view).catch(() => undefined);
      }
    }
  }
}
