// The Kubernetes client against a server that closes a kept-alive connection as the next request goes out
// (the race between a server's idle timeout and a client's reuse): an idempotent request is sent again on a
// new connection, a POST is not (the caller sees the failure and decides).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { apiPath } from '../../src/runtime/api-path.js';
import { KubeClient } from '../../src/runtime/kube-client.js';

describe('Kubernetes client: a kept-alive connection the server has closed', () => {
  let server: http.Server;
  let client: KubeClient;
  /** Requests that reached the handler, by method. */
  const answered: string[] = [];
  /** Sockets that have served one request; the next request on each is cut off unanswered. */
  const used = new WeakSet<Socket>();
  before(async () => {
    server = http.createServer((req, res) => {
      if (used.has(req.socket)) {
        req.socket.destroy();
        return;
      }
      used.add(req.socket);
      req.resume();
      req.on('end', () => {
        answered.push(req.method ?? '');
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"kind":"Status","status":"Success"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        { name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
      ],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    client = new KubeClient(kc);
  });
  after(async () => {
    client.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const path = apiPath({ apiVersion: 'v1', resource: 'configmaps', namespace: 'n' });

  it('sends a GET again on a new connection, and it is answered', async () => {
    await client.request('GET', path);
    answered.length = 0;
    await client.request('GET', path);
    assert.deepEqual(answered, ['GET'], 'the second GET was answered once, on a fresh connection');
  });

  it('does not send a POST twice: the caller gets the connection error', async () => {
    await client.request('GET', path);
    answered.length = 0;
    await assert.rejects(client.request('POST', path, { body: {} }), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ECONNRESET');
      return true;
    });
    assert.deepEqual(answered, []);
  });
});
