// `vmop manager`: runs the operator process until it is signalled to stop.
import { Manager } from '../runtime/manager.js';
import { createLogger } from '../runtime/logger.js';
import { checkFlags, parseArgs, stringFlag } from './args.js';

export function parseHostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  const port = Number(value.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--health-addr must be HOST:PORT, e.g. 127.0.0.1:8081 (got "${value}")`);
  }
  return { host: value.slice(0, i) || '0.0.0.0', port };
}

export async function managerCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  checkFlags(args, ['kubeconfig', 'context', 'health-addr', 'log-level'], 'manager');
  const { host, port } = parseHostPort(stringFlag(args, 'health-addr') ?? '0.0.0.0:8081');
  const logger = createLogger({ level: stringFlag(args, 'log-level') });
  const manager = new Manager({
    kubeconfig: stringFlag(args, 'kubeconfig'),
    context: stringFlag(args, 'context'),
    healthHost: host,
    healthPort: port,
    logger,
  });
  await manager.run();
  return 0;
}
