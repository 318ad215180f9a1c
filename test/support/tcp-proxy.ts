// A TCP proxy to the API server that a test can switch to swallow everything, on open and new connections
// alike: a half-open network (a node or proxy that stops forwarding without closing anything).
import net from 'node:net';

export interface CuttableProxy {
  port: number;
  /** While true, bytes in either direction are dropped. */
  cut: boolean;
  close(): void;
}

export async function cuttableProxy(target: URL): Promise<CuttableProxy> {
  const sockets = new Set<net.Socket>();
  const state: CuttableProxy = { port: 0, cut: false, close: () => undefined };
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(target.port), target.hostname);
    sockets.add(inbound).add(outbound);
    inbound.on('data', (chunk: Buffer) => void (state.cut || outbound.write(chunk)));
    outbound.on('data', (chunk: Buffer) => void (state.cut || inbound.write(chunk)));
    const end = () => (inbound.destroy(), outbound.destroy());
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as net.AddressInfo).port;
  state.close = () => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  return state;
}

/** Points the KubeConfig's current cluster at the proxy (TLS still ends at the API server). */
export function throughProxy(kc: import('@kubernetes/client-node').KubeConfig, proxy: CuttableProxy): void {
  const current = kc.getCurrentCluster()!;
  kc.clusters = kc.clusters.map((x) =>
    x.name === current.name ? { ...x, server: `https://127.0.0.1:${proxy.port}` } : x,
  );
}
