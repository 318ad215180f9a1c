// Structured JSON logs (pino) for the manager; one root logger, children per component.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: opts.name ?? 'vmop',
    level: opts.level ?? process.env.VMOP_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // The level as a word ("info"), as controller-runtime's zap logger writes it.
    formatters: { level: (label) => ({ level: label }) },
    // Credentials never reach the logs, whatever a caller passes in.
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'],
      censor: '[redacted]',
    },
  });
}
