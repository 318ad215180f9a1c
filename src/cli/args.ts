// Flags of the vmop commands, parsed by node:util's parseArgs: `--name value`, `--name=value` and boolean
// `--flag`; a flag the command does not know, or one without its value, is an error that names it.
import { parseArgs as parseNodeArgs } from 'node:util';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/** The command's arguments: `strings` take a value, `booleans` do not; anything else is refused. */
export function parseArgs(
  argv: string[],
  spec: { strings?: readonly string[]; booleans?: readonly string[] },
  command: string,
): ParsedArgs {
  const options = Object.fromEntries([
    ...(spec.strings ?? []).map((name) => [name, { type: 'string' as const }]),
    ...(spec.booleans ?? []).map((name) => [name, { type: 'boolean' as const }]),
  ]);
  let parsed;
  try {
    parsed = parseNodeArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message);
    if (unknown) throw new Error(`unknown flag ${unknown[1]} for \`vmop ${command}\` (see \`vmop ${command} --help\`)`);
    const missing = /Option '(--[a-z-]+)[^']*' argument missing/.exec(message);
    if (missing) throw new Error(`flag ${missing[1]} of \`vmop ${command}\` needs a value`);
    throw new Error(`vmop ${command}: ${message}`);
  }
  const flags = new Map<string, string | true>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string') flags.set(name, value);
    else if (value === true) flags.set(name, true);
  }
  return { positional: parsed.positionals, flags };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration flag in milliseconds: "90s", "15m", "8760h", "30d", or a bare number of seconds. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2] ?? 's']! : NaN;
  if (!(ms > 0)) throw new Error(`--${flag} must be a positive duration such as 90s, 15m or 8760h (got "${value}")`);
  return ms;
}
