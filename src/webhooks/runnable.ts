// Runs the admission server as a piece of the manager: it serves until the manager stops.
import type { Registry } from 'prom-client';
import type { SharedCache } from '../runtime/cache.js';
import type { Logger } from '../runtime/logger.js';
import type { Runnable } from '../runtime/manager.js';
import { createHandlers } from './handlers.js';
import { conversionHandler, CONVERSION_PATH } from './conversion.js';
import type { PrivilegeConfig } from './privileged.js';
import { CachedImageCatalog } from './virtualmachine/images.js';
import { startWebhookServer, type CertificateSource, type WebhookServer } from './server.js';
import { untilAborted } from '../runtime/timeout.js';

export function webhookRunnable(opts: {
  host: string;
  port: number;
  certDir?: string;
  certificates?: CertificateSource;
  /** Serve only clients with a certificate signed by this CA (PEM). */
  clientCA?: string;
  privileges: PrivilegeConfig;
  /** The manager's informers: the image caches that resolve spec.imageName at create come from it. */
  cache?: SharedCache;
  logger: Logger;
  registry: Registry;
  onListening?: (port: number) => void;
}): Runnable {
  return {
    name: 'webhooks',
    async start(signal: AbortSignal): Promise<void> {
      const images = opts.cache ? new CachedImageCatalog(opts.cache) : undefined;
      images?.start();
      const server: WebhookServer = await startWebhookServer({
        host: opts.host,
        port: opts.port,
        certDir: opts.certDir,
        certificates: opts.certificates,
        clientCA: opts.clientCA,
        handlers: { ...createHandlers({ ...opts.privileges, images }), [CONVERSION_PATH]: conversionHandler },
        logger: opts.logger,
        registry: opts.registry,
      });
      opts.logger.info({ port: server.port }, 'admission webhooks serving');
      opts.onListening?.(server.port);
      await untilAborted(signal);
      await server.close();
      await images?.stop();
    },
  };
}
