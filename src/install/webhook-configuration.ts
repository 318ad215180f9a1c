// The MutatingWebhookConfiguration and ValidatingWebhookConfiguration that route VirtualMachine and
// VirtualMachineClass writes to vmop: by URL (the local environment, on loopback) or by Service (in a cluster).
import { GROUP, VERSION } from '../api/v1alpha6/common.js';
import { PATHS } from '../webhooks/handlers.js';

export type ClientConfig =
  | { kind: 'url'; baseURL: string; caBundle: string }
  | { kind: 'service'; namespace: string; name: string; port: number; caBundle?: string };

export interface WebhookConfigurationObject {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';
  metadata: { name: string; labels: Record<string, string> };
  webhooks: Record<string, unknown>[];
}

function clientConfig(cfg: ClientConfig, path: string): Record<string, unknown> {
  if (cfg.kind === 'url') return { url: `${cfg.baseURL.replace(/\/$/, '')}${path}`, caBundle: cfg.caBundle };
  return {
    service: { namespace: cfg.namespace, name: cfg.name, port: cfg.port, path },
    ...(cfg.caBundle ? { caBundle: cfg.caBundle } : {}),
  };
}

function webhook(name: string, path: string, resource: string, cfg: ClientConfig): Record<string, unknown> {
  return {
    name,
    admissionReviewVersions: ['v1'],
    clientConfig: clientConfig(cfg, path),
    failurePolicy: 'Fail',
    matchPolicy: 'Equivalent',
    sideEffects: 'None',
    timeoutSeconds: 10,
    rules: [
      {
        apiGroups: [GROUP],
        apiVersions: [VERSION],
        operations: ['CREATE', 'UPDATE'],
        resources: [resource],
        scope: '*',
      },
    ],
  };
}

/** Both webhook configurations, named `${prefix}-mutating` and `${prefix}-validating`. */
export function webhookConfigurations(prefix: string, cfg: ClientConfig): WebhookConfigurationObject[] {
  const labels = { 'app.kubernetes.io/part-of': 'vmop' };
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: `${prefix}-mutating`, labels },
      webhooks: [
        webhook(
          `default.mutating.virtualmachine.${VERSION}.${GROUP}`,
          PATHS.mutateVirtualMachine,
          'virtualmachines',
          cfg,
        ),
      ],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: `${prefix}-validating`, labels },
      webhooks: [
        webhook(
          `default.validating.virtualmachine.${VERSION}.${GROUP}`,
          PATHS.validateVirtualMachine,
          'virtualmachines',
          cfg,
        ),
        webhook(
          `default.validating.virtualmachineclass.${VERSION}.${GROUP}`,
          PATHS.validateVirtualMachineClass,
          'virtualmachineclasses',
          cfg,
        ),
      ],
    },
  ];
}
