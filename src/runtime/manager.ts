// The operator's process: connects to Kubernetes, serves health and metrics, and runs the controllers and
// webhooks that are registered with it until SIGTERM/SIGINT, then shuts down in order.
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startHealthServer, type HealthServer } from './health.js';
import type { Logger } from './logger.js';

export interface ManagerOptions {
  kubeconfig?: string;
  context?: string;
  healthHost: string;
  healthPort: number;
  logger: Logger;
}

/** A piece that runs inside the manager (a controller, the webhook server). */
export interface Runnable {
  name: string;
  start(signal: AbortSignal): Promise<void>;
}

export function loadKubeConfig(file?: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (context) kc.setCurrentContext(context);
  if (!kc.getCurrentCluster()) {
    throw new Error('no Kubernetes cluster configured: pass --kubeconfig FILE, set KUBECONFIG, or run in a cluster');
  }
  return kc;
}

export class Manager {
  readonly registry = new Registry();
  readonly kubeConfig: KubeConfig;
  private readonly runnables: Runnable[] = [];
  private readonly readiness: Record<string, () => Promise<void>> = {};
  private health?: HealthServer;
  private readonly abort = new AbortController();

  constructor(private readonly opts: ManagerOptions) {
    this.kubeConfig = loadKubeConfig(opts.kubeconfig, opts.context);
    collectDefaultMetrics({ register: this.registry, prefix: 'vmop_' });
  }

  add(r: Runnable): void {
    this.runnables.push(r);
  }

  /** Adds a check that /readyz runs; the manager is ready when every check passes. */
  addReadinessCheck(name: string, check: () => Promise<void>): void {
    this.readiness[name] = check;
  }

  /** Checks that the API server answers; used by /readyz. */
  async checkAPIServer(): Promise<void> {
    await this.kubeConfig.makeApiClient(VersionApi).getCode();
  }

  /** Starts everything and resolves once the manager has stopped (after `stop()` or a signal). */
  async run(): Promise<void> {
    const log = this.opts.logger;
    this.health = await startHealthServer({
      host: this.opts.healthHost,
      port: this.opts.healthPort,
      registry: this.registry,
      readiness: { apiserver: () => this.checkAPIServer(), ...this.readiness },
    });
    log.info({ port: this.health.port, server: this.kubeConfig.getCurrentCluster()?.server }, 'manager started');
    const onSignal = (sig: NodeJS.Signals) => {
      log.info({ signal: sig }, 'shutting down');
      this.stop();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    const running = this.runnables.map((r) =>
      r.start(this.abort.signal).catch((err: unknown) => {
        log.error({ err, runnable: r.name }, 'runnable failed; stopping the manager');
        this.stop();
      }),
    );
    await new Promise<void>((resolve) => this.abort.signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.all(running);
    await this.health.close();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    log.info('manager stopped');
  }

  stop(): void {
    this.abort.abort();
  }

  get healthPort(): number | undefined {
    return this.health?.port;
  }
}
