// The spec's own spellings of power states and modes ("poweredOn", "hard", any case) and their canonical
// v1alpha3 values, so a document written from the spec applies unchanged.
import { POWER_OP_MODES, POWER_STATES, type PowerOpMode, type PowerState } from '../../api/v1alpha6/virtualmachine.js';

function canonical<T extends string>(values: readonly T[], input: unknown): T | undefined {
  if (typeof input !== 'string') return undefined;
  const lower = input.toLowerCase();
  return values.find((v) => v.toLowerCase() === lower);
}

export function canonicalPowerState(input: unknown): PowerState | undefined {
  return canonical(POWER_STATES, input);
}

export function canonicalPowerOpMode(input: unknown): PowerOpMode | undefined {
  return canonical(POWER_OP_MODES, input);
}
