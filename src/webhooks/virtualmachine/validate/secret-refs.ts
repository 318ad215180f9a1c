// Secret references: every field that names a Secret (see api/v1alpha6/secret-refs.ts) must name one by a
// valid Secret name and key. The controller reads them from the VM's own namespace only, so a name such as
// "../../vmop-system/secrets/x" or "%2e%2e" is refused here, with the API server's wording for the rule.
import { CONFIG_KEY_MESSAGE, DNS_SUBDOMAIN_MESSAGE, isConfigKey, isDNSSubdomain } from '../../../api/names.js';
import type { FieldError } from '../../../api/schema.js';
import { secretReferences } from '../../../api/v1alpha6/secret-refs.js';
import type { VMValidationContext } from './context.js';

export function validateSecretReferences(ctx: VMValidationContext): FieldError[] {
  const errors: FieldError[] = [];
  for (const ref of secretReferences(ctx.vm)) {
    const nameField = ref.whole ? ref.field : `${ref.field}.name`;
    if (typeof ref.name !== 'string' || ref.name === '') {
      errors.push({ field: nameField, type: 'Required', detail: 'the name of a Secret in the VM’s namespace' });
    } else if (!isDNSSubdomain(ref.name)) {
      errors.push({ field: nameField, type: 'Invalid', value: ref.name, detail: DNS_SUBDOMAIN_MESSAGE });
    }
    if (ref.whole || (ref.key === undefined && ref.defaultKey !== undefined)) continue;
    if (typeof ref.key !== 'string' || ref.key === '') {
      errors.push({ field: `${ref.field}.key`, type: 'Required', detail: 'the key of the Secret to read' });
    } else if (!isConfigKey(ref.key)) {
      errors.push({ field: `${ref.field}.key`, type: 'Invalid', value: ref.key, detail: CONFIG_KEY_MESSAGE });
    }
  }
  return errors;
}
