// The operator's process: connects to Kubernetes, serves health and metrics, and runs the controllers and
// webhooks that are registered with it until SIGTERM/SIGINT, then shuts down in order.
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { rbacAttributes } from './api-usage.js';
import { hostname } from 'node:os';
import { startHealthServer, type HealthServer } from './health.js';
import { SharedCache } from './cache.js';
import { KubeClient } from './kube-client.js';
import { LeaderElector } from './leader-election.js';
import type { Logger } from './logger.js';

export interface ManagerOptions {
  kubeconfig?: string;
  context?: string;
  healthHost: string;
  healthPort: number;
  logger: Logger;
  /** Run the leader-elected pieces (controllers) only while this process holds the Lease. */
  leaderElection?: {
    namespace: string;
    name: string;
    identity?: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  /**
   * Called when the lease is lost: the process must stop acting at once (client-go exits). By default the
   * process exits with status 1 without waiting for work in flight; another replica leads by then.
   */
  onLostLeadership?: () => void;
}

/** A piece that runs inside the manager (a controller, the webhook server). */
export interface Runnable {
  name: string;
  start(signal: AbortSignal): Promise<void>;
  /** While it runs: what keeps it from doing its work (a cache that cannot sync), for /readyz; undefined when fine. */
  health?(): string | undefined;
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
  private kubeRequests?: Counter<'verb' | 'group' | 'resource' | 'code'>;
  private restRequests?: Counter<'code' | 'method' | 'host'>;

  /**
   * Counts the client's requests as vmop_kube_api_requests_total by RBAC verb, group, resource and status
   * class, so the permissions the manager uses can be read off its metrics.
   */
  instrument(client: KubeClient): KubeClient {
    this.kubeRequests ??= new Counter({
      name: 'vmop_kube_api_requests_total',
      help: 'Requests to the Kubernetes API server by RBAC verb, API group, resource and HTTP status code ("error" when no answer came).',
      labelNames: ['verb', 'group', 'resource', 'code'],
      registers: [this.registry],
    });
    // client-go's own name and labels, as controller-runtime exposes them.
    this.restRequests ??= new Counter({
      name: 'rest_client_requests_total',
      help: 'Number of HTTP requests, partitioned by status code, method, and host.',
      labelNames: ['code', 'method', 'host'],
      registers: [this.registry],
    });
    const counter = this.kubeRequests;
    const rest = this.restRequests;
    const host = (() => {
      try {
        return new URL(this.kubeConfig.getCurrentCluster()?.server ?? '').host;
      } catch {
        return '';
      }
    })();
    client.onRequest = ({ method, path, status, watch }) => {
      rest.inc({ code: status ? String(status) : '<error>', method: method.toUpperCase(), host });
      const a = rbacAttributes(method, path, { watch, status });
      counter.inc({
        verb: a?.verb ?? method.toLowerCase(),
        group: a?.group ?? '',
        resource: a?.resource ?? `nonResource:${path.split('?')[0]}`,
        code: status ? String(status) : 'error',
      });
    };
    return client;
  }
  readonly kubeConfig: KubeConfig;
  private readonly runnables: Runnable[] = [];
  private readonly leaderRunnables: Runnable[] = [];
  private elector?: LeaderElector;
  /** Set when the manager stopped because it lost the lease (the process should then exit non-zero). */
  lostLeadership = false;
  private readonly readiness: Record<string, () => Promise<void>> = {};
  private readonly started = new Set<Runnable>();
  private health?: HealthServer;
  private readonly abort = new AbortController();

  /** The manager's Kubernetes client (its requests counted in the metrics), for the pieces it runs. */
  readonly client: KubeClient;
  /** One informer per kind per process, shared by every controller (controller-runtime's mgr.GetCache()). */
  readonly cache: SharedCache;

  constructor(private readonly opts: ManagerOptions) {
    this.kubeConfig = loadKubeConfig(opts.kubeconfig, opts.context);
    // Node's process metrics unprefixed (process_*, nodejs_*), as exporters name them.
    collectDefaultMetrics({ register: this.registry });
    this.client = this.instrument(new KubeClient(this.kubeConfig));
    this.cache = new SharedCache(this.client, opts.logger);
  }

  add(r: Runnable): void {
    this.runnables.push(r);
  }

  /** Adds a piece that runs only on the elected leader (controllers); every replica runs the others (webhooks). */
  addLeaderElected(r: Runnable): void {
    this.leaderRunnables.push(r);
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : true;
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
      readiness: {
        apiserver: () => this.checkAPIServer(),
        ...this.readiness,
        // Controllers run on the leader only; a replica that does not lead is ready without them.
        controllers: async () => {
          const problems = [...this.started].flatMap((r) => r.health?.() ?? []);
          if (problems.length > 0) throw new Error(problems.join('; '));
        },
      },
    });
    log.info({ port: this.health.port, server: this.kubeConfig.getCurrentCluster()?.server }, 'manager started');
    const onSignal = (sig: NodeJS.Signals) => {
      log.info({ signal: sig }, 'shutting down');
      this.stop();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    const startAll = (list: Runnable[]) =>
      list.map((r) =>
        (this.started.add(r), r.start(this.abort.signal)).catch((err: unknown) => {
          log.error({ err, runnable: r.name }, 'runnable failed; stopping the manager');
          this.stop();
        }),
      );
    const running = startAll(this.runnables);
    const leading: Promise<unknown>[] = [];
    const le = this.opts.leaderElection;
    if (!le) running.push(...startAll(this.leaderRunnables));
    else {
      const client = this.instrument(new KubeClient(this.kubeConfig));
      const identity = le.identity ?? `${hostname()}_${process.pid}`;
      this.elector = new LeaderElector(client, { ...le, identity, logger: log });
      // client-go's leader election gauge: 1 while this process holds the lease.
      const leader = new Gauge({
        name: 'leader_election_master_status',
        help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
        labelNames: ['name'],
        registers: [this.registry],
      });
      leader.set({ name: le.name }, 0);
      running.push(
        this.elector
          .run(
            this.abort.signal,
            () => {
              leader.set({ name: le.name }, 1);
              leading.push(...startAll(this.leaderRunnables));
            },
            () => {
              leader.set({ name: le.name }, 0);
              this.lostLeadership = true;
              if (this.opts.onLostLeadership) this.opts.onLostLeadership();
              else {
                log.error('lost the lease: exiting now, without finishing work in flight');
                process.exit(1);
              }
              this.stop();
            },
            // The lease is released only once the controllers' work in flight has drained.
            () => Promise.all(leading),
          )
          .finally(() => client.close()),
      );
    }
    await new Promise<void>((resolve) => this.abort.signal.addEventListener('abort', () => resolve(), { once: true }));
    // (The elector's own run ends after the controllers it started have drained.)
    await Promise.all([...running, ...leading]);
    await this.health.close();
    this.client.close();
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
