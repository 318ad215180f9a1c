// /metrics over HTTPS for those the cluster allows, as kubebuilder's secure metrics endpoint serves it: the
// caller's bearer token is authenticated with a TokenReview and the caller authorized for `get` on the
// non-resource path /metrics with a SubjectAccessReview (ClusterRole vmop-metrics-reader grants it). No token:
// 401; not allowed: 403. Verdicts are kept for a few seconds per token, so a scraper costs the API server two
// requests per interval, not per scrape. The caller gives the serving certificate.
import { createHash } from 'node:crypto';
import https from 'node:https';
import type { Registry } from 'prom-client';
import { apiPath } from './api-path.js';
import { errorMessage } from './errors.js';
import { listen, type HealthServer } from './health.js';
import type { KubeClient } from './kube-client.js';
import type { Logger } from './logger.js';

/** How long a token's verdict is kept. */
const VERDICT_TTL_MS = 10_000;
/** At most this many verdicts are kept (a flood of made-up tokens cannot grow the map without bound). */
const MAX_VERDICTS = 1000;

type Verdict = { status: 200 | 401 | 403; message: string };

export async function startSecureMetricsServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  client: KubeClient;
  /** The serving certificate and key (PEM). */
  tls: { cert: string; key: string };
  logger: Logger;
}): Promise<HealthServer> {
  const verdicts = new Map<string, { at: number; verdict: Verdict }>();

  const review = async (token: string): Promise<Verdict> => {
    const tr = await opts.client.request<{
      status?: {
        authenticated?: boolean;
        user?: { username?: string; uid?: string; groups?: string[]; extra?: unknown };
      };
    }>('POST', apiPath({ apiVersion: 'authentication.k8s.io/v1', resource: 'tokenreviews' }), {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    const user = tr.status?.user;
    if (!tr.status?.authenticated || !user?.username) return { status: 401, message: 'the token is not valid' };
    const sar = await opts.client.request<{ status?: { allowed?: boolean; reason?: string } }>(
      'POST',
      apiPath({ apiVersion: 'authorization.k8s.io/v1', resource: 'subjectaccessreviews' }),
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            nonResourceAttributes: { path: '/metrics', verb: 'get' },
          },
        },
      },
    );
    return sar.status?.allowed
      ? { status: 200, message: '' }
      : {
          status: 403,
          message: `${user.username} may not get /metrics (bind ClusterRole vmop-metrics-reader)${sar.status?.reason ? `: ${sar.status.reason}` : ''}`,
        };
  };

  const verdictFor = async (token: string): Promise<Verdict> => {
    const key = createHash('sha256').update(token).digest('hex');
    const known = verdicts.get(key);
    if (known && Date.now() - known.at < VERDICT_TTL_MS) return known.verdict;
    const verdict = await review(token);
    if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
    verdicts.set(key, { at: Date.now(), verdict });
    return verdict;
  };

  const server = https.createServer(opts.tls, (req, res) => {
    const reply = (status: number, body: string, type = 'text/plain') => {
      res.writeHead(status, { 'Content-Type': type });
      res.end(body);
    };
    if ((req.url ?? '/').split('?')[0] !== '/metrics') return reply(404, 'not found');
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer (\S+)$/i.exec(auth)?.[1];
    if (!token) return reply(401, 'a bearer token is required');
    verdictFor(token).then(
      async (v) => {
        if (v.status !== 200) return reply(v.status, v.message);
        reply(200, await opts.registry.metrics(), opts.registry.contentType);
      },
      (err: unknown) => {
        opts.logger.warn({ err: errorMessage(err) }, 'metrics: the token or access review failed');
        reply(500, 'the token could not be reviewed; try again');
      },
    );
  });
  return listen(server, opts.host, opts.port);
}
