// The guest's host name (spec.network.hostName, else metadata.name) must be a DNS label (RFC 1123), at most
// 15 characters for Sysprep (Windows) guests; the domain name must be a DNS name whose top-level label has
// two or more letters; together they stay within 255 characters.
import { isDNSLabel } from '../../../api/names.js';
import type { FieldError } from '../../../api/schema.js';
import type { VMValidationContext } from './context.js';

const DOMAIN_LABEL = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const LABEL_RULE =
  "must be a valid DNS label (RFC 1123): at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit";

function domainProblem(domain: string): string | undefined {
  const labels = domain.split('.');
  if (labels.some((l) => l.length === 0 || l.length > 63 || !DOMAIN_LABEL.test(l))) {
    return "must be a valid DNS name: labels of at most 63 letters, digits and '-', separated by dots";
  }
  const tld = labels.at(-1) ?? '';
  if (labels.length < 2 || !/^[a-zA-Z]{2,}$/.test(tld)) return 'must end in a top-level domain of two or more letters';
  return undefined;
}

export function validateHostName(ctx: VMValidationContext): FieldError[] {
  const network = ctx.vm.spec?.network;
  const explicit = network?.hostName ?? '';
  const hostName = explicit || (ctx.vm.metadata.name ?? '');
  const field = explicit ? 'spec.network.hostName' : 'metadata.name';
  const errors: FieldError[] = [];
  if (hostName && !isDNSLabel(hostName)) {
    errors.push({
      field,
      type: 'Invalid',
      value: hostName,
      detail: explicit
        ? LABEL_RULE
        : `is the guest's host name when spec.network.hostName is empty, so it ${LABEL_RULE}; set spec.network.hostName to a DNS label to keep this name`,
    });
  } else if (hostName.length > 15 && ctx.vm.spec?.bootstrap?.sysprep) {
    const oldName = ctx.old ? ctx.old.spec?.network?.hostName || ctx.old.metadata.name || '' : '';
    if (oldName.length <= 15) {
      errors.push({
        field,
        type: 'Invalid',
        value: hostName,
        detail: 'must be at most 15 characters for a Windows (Sysprep) guest',
      });
    }
  }
  const domain = network?.domainName ?? '';
  if (domain) {
    const problem = domainProblem(domain);
    if (problem) errors.push({ field: 'spec.network.domainName', type: 'Invalid', value: domain, detail: problem });
    else if (hostName.length + 1 + domain.length > 255) {
      errors.push({
        field: 'spec.network.domainName',
        type: 'Invalid',
        value: domain,
        detail: 'the host name and domain name together must be at most 255 characters',
      });
    }
  }
  return errors;
}
