// A Grafana dashboard over the manager's Prometheus metrics: reconciles and work queues, vSphere calls and
// faults, webhook verdicts and latency, VMs by power state, API server requests, memory — per namespace and pod
// of the manager (variables) — and the alerts the chart's PrometheusRule carries. Generated so that a test can
// check each query against the metrics a running manager exports.

interface Panel {
  title: string;
  expr: string;
  legend: string;
  unit?: string;
}

const RATE = '[5m]';
/** The dashboard's namespace and pod variables, as label matchers (Prometheus' Kubernetes discovery adds both). */
const S = 'namespace=~"$namespace",pod=~"$pod"';

export const PANELS: Panel[] = [
  {
    title: 'Reconciles per second',
    expr: `sum by (controller, result) (rate(controller_runtime_reconcile_total{${S}}${RATE}))`,
    legend: '{{controller}} {{result}}',
    unit: 'ops',
  },
  {
    title: 'Reconcile duration (p95)',
    expr: `histogram_quantile(0.95, sum by (le, controller) (rate(controller_runtime_reconcile_time_seconds_bucket{${S}}${RATE})))`,
    legend: '{{controller}}',
    unit: 's',
  },
  { title: 'Work queue depth', expr: `sum by (controller) (workqueue_depth{${S}})`, legend: '{{controller}}' },
  {
    title: 'VirtualMachines by power state',
    expr: `sum by (power_state) (vmop_virtualmachines{${S}})`,
    legend: '{{power_state}}',
  },
  {
    title: 'vSphere SOAP calls per second',
    expr: `sum by (method) (rate(vmop_vsphere_call_duration_seconds_count{${S}}${RATE}))`,
    legend: '{{method}}',
    unit: 'ops',
  },
  {
    title: 'vSphere faults per second',
    expr: `sum by (method, fault) (rate(vmop_vsphere_call_duration_seconds_count{fault!="",${S}}${RATE}))`,
    legend: '{{method}} {{fault}}',
    unit: 'ops',
  },
  {
    title: 'vSphere call duration (p95)',
    expr: `histogram_quantile(0.95, sum by (le, method) (rate(vmop_vsphere_call_duration_seconds_bucket{${S}}${RATE})))`,
    legend: '{{method}}',
    unit: 's',
  },
  {
    title: 'vSphere REST calls per second',
    expr: `sum by (method, path) (rate(vmop_vsphere_rest_call_duration_seconds_count{${S}}${RATE}))`,
    legend: '{{method}} {{path}}',
    unit: 'ops',
  },
  {
    title: 'Webhook requests by verdict',
    expr: `sum by (path, verdict) (rate(vmop_webhook_requests_total{${S}}${RATE}))`,
    legend: '{{path}} {{verdict}}',
    unit: 'ops',
  },
  {
    title: 'Webhook latency (p99)',
    expr: `histogram_quantile(0.99, sum by (le, path) (rate(vmop_webhook_request_duration_seconds_bucket{${S}}${RATE})))`,
    legend: '{{path}}',
    unit: 's',
  },
  {
    title: 'Kubernetes API requests per second',
    expr: `sum by (verb, resource, code) (rate(vmop_kube_api_requests_total{${S}}${RATE}))`,
    legend: '{{verb}} {{resource}} {{code}}',
    unit: 'ops',
  },
  { title: 'Manager memory (RSS)', expr: `process_resident_memory_bytes{${S}}`, legend: '{{pod}}', unit: 'bytes' },
];

/** The metric names a PromQL expression reads (the manager's families, histogram suffixes kept). */
export function metricNames(expr: string): string[] {
  return [
    ...new Set(
      expr.match(/\b(?:vmop|controller_runtime|workqueue|rest_client|leader_election|process|nodejs)_[a-z_]+/g) ?? [],
    ),
  ];
}

/**
 * Alerts that matter for vmop, as PrometheusRule rules: the webhook certificate near its end, reconciles
 * failing, vCenter not answering, no manager leading.
 */
export const ALERTS: { alert: string; expr: string; for: string; severity: string; summary: string }[] = [
  {
    alert: 'VmopWebhookCertificateExpiring',
    expr: 'min(vmop_webhook_certificate_expiry_timestamp_seconds) - time() < 7 * 24 * 3600',
    for: '1h',
    severity: 'warning',
    summary: "vmop's webhook serving certificate expires within 7 days and has not been renewed",
  },
  {
    alert: 'VmopReconcileErrorsRising',
    expr:
      'sum by (controller) (rate(controller_runtime_reconcile_errors_total[10m])) / ' +
      'clamp_min(sum by (controller) (rate(controller_runtime_reconcile_total[10m])), 1e-9) > 0.1',
    for: '15m',
    severity: 'warning',
    summary: 'More than 10% of {{ $labels.controller }} reconciles fail',
  },
  {
    alert: 'VmopVCenterUnreachable',
    expr:
      'sum(rate(vmop_vsphere_call_duration_seconds_count[10m])) > 0 and ' +
      'sum(rate(vmop_vsphere_call_duration_seconds_count{fault=""}[10m])) == 0',
    for: '10m',
    severity: 'critical',
    summary: 'No vSphere call of vmop has succeeded for 10 minutes',
  },
  {
    alert: 'VmopNoLeader',
    expr: 'max(leader_election_master_status{name="vmop-controller-manager"}) < 1',
    for: '5m',
    severity: 'critical',
    summary: 'No vmop manager holds the Lease: VirtualMachines are not reconciled',
  },
];

export function dashboard(): Record<string, unknown> {
  return {
    title: 'vmop',
    uid: 'vmop-overview',
    schemaVersion: 39,
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' },
        ...['namespace', 'pod'].map((name) => ({
          name,
          label: name,
          type: 'query',
          datasource: { type: 'prometheus', uid: '${datasource}' },
          query: { query: `label_values(controller_runtime_max_concurrent_reconciles, ${name})`, refId: name },
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: { text: 'All', value: '$__all' },
          refresh: 2,
        })),
      ],
    },
    panels: PANELS.map((p, i) => ({
      id: i + 1,
      type: 'timeseries',
      title: p.title,
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit ?? 'short' }, overrides: [] },
      targets: [{ refId: 'A', expr: p.expr, legendFormat: p.legend }],
    })),
  };
}
