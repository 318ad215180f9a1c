// The manager's shared cache, as controller-runtime's mgr.GetCache(): one informer per kind (and namespace
// and selector) per process, whichever controllers ask for it, so every kind is listed and watched once.
// Controllers start and stop the informers they use; an informer runs while any of them has it started.
import { Informer, type InformerOptions } from './informer.js';
import type { KubeClient, KubeObject } from './kube-client.js';
import type { Logger } from './logger.js';

export class SharedCache {
  private readonly informers = new Map<string, Informer<KubeObject>>();

  constructor(
    private readonly client: KubeClient,
    private readonly logger?: Logger,
  ) {}

  /**
   * The informer of `opts`' kind, namespace and selectors, made on first use. A resync period asked for by any
   * user applies (the shortest), and the kind is optional only if every user says so.
   */
  informer<T extends KubeObject = KubeObject>(
    opts: Omit<InformerOptions, 'logger'> & { logger?: Logger },
  ): Informer<T> {
    const key = [opts.apiVersion, opts.kind, opts.namespace ?? '', opts.labelSelector ?? '', opts.fieldSelector ?? '']
      .map((p) => p.replaceAll('|', '||'))
      .join('|');
    let found = this.informers.get(key);
    if (!found) {
      found = new Informer(this.client, { logger: this.logger, ...opts });
      this.informers.set(key, found);
    } else {
      found.share(opts);
    }
    return found as unknown as Informer<T>;
  }

  /** Lists and watches made so far, per kind (for tests and the benchmark). */
  stats(): { kind: string; lists: number; watches: number }[] {
    return [...this.informers.values()].map((i) => ({ kind: i.kind, lists: i.stats.lists, watches: i.stats.watches }));
  }
}
