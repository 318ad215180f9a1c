// A Grafana dashboard over the manager's Prometheus metrics: reconciles and work queues, vSphere calls and
// faults, webhook verdicts and latency, VMs by power state, API server requests, memory. Generated so that a
// test can check each query against the metrics a running manager exports.

interface Panel {
  title: string;
  expr: string;
  legend: string;
  unit?: string;
}

const RATE = '[5m]';

export const PANELS: Panel[] = [
  {
    title: 'Reconciles per second',
    expr: `sum by (controller, result) (rate(controller_runtime_reconcile_total${RATE}))`,
    legend: '{{controller}} {{result}}',
    unit: 'ops',
  },
  {
    title: 'Reconcile duration (p95)',
    expr: `histogram_quantile(0.95, sum by (le, controller) (rate(controller_runtime_reconcile_time_seconds_bucket${RATE})))`,
    legend: '{{controller}}',
    unit: 's',
  },
  { title: 'Work queue depth', expr: 'sum by (controller) (workqueue_depth)', legend: '{{controller}}' },
  {
    title: 'VirtualMachines by power state',
    expr: 'sum by (power_state) (vmop_virtualmachines)',
    legend: '{{power_state}}',
  },
  {
    title: 'vSphere SOAP calls per second',
    expr: `sum by (method) (rate(vmop_vsphere_call_duration_seconds_count${RATE}))`,
    legend: '{{method}}',
    unit: 'ops',
  },
  {
    title: 'vSphere faults per second',
    expr: `sum by (method, fault) (rate(vmop_vsphere_call_duration_seconds_count{fault!=""}${RATE}))`,
    legend: '{{method}} {{fault}}',
    unit: 'ops',
  },
  {
    title: 'vSphere call duration (p95)',
    expr: `histogram_quantile(0.95, sum by (le, method) (rate(vmop_vsphere_call_duration_seconds_bucket${RATE})))`,
    legend: '{{method}}',
    unit: 's',
  },
  {
    title: 'vSphere REST calls per second',
    expr: `sum by (method, path) (rate(vmop_vsphere_rest_call_duration_seconds_count${RATE}))`,
    legend: '{{method}} {{path}}',
    unit: 'ops',
  },
  {
    title: 'Webhook requests by verdict',
    expr: `sum by (path, verdict) (rate(vmop_webhook_requests_total${RATE}))`,
    legend: '{{path}} {{verdict}}',
    unit: 'ops',
  },
  {
    title: 'Webhook latency (p99)',
    expr: `histogram_quantile(0.99, sum by (le, path) (rate(vmop_webhook_request_duration_seconds_bucket${RATE})))`,
    legend: '{{path}}',
    unit: 's',
  },
  {
    title: 'Kubernetes API requests per second',
    expr: `sum by (verb, resource, code) (rate(vmop_kube_api_requests_total${RATE}))`,
    legend: '{{verb}} {{resource}} {{code}}',
    unit: 'ops',
  },
  { title: 'Manager memory (RSS)', expr: 'process_resident_memory_bytes', legend: '{{pod}}', unit: 'bytes' },
];

/** The metric names a PromQL expression reads (vmop_… identifiers, histogram suffixes kept). */
export function metricNames(expr: string): string[] {
  return [...new Set(expr.match(/\bvmop_[a-z_]+/g) ?? [])];
}

export function dashboard(): Record<string, unknown> {
  return {
    title: 'vmop',
    uid: 'vmop-overview',
    schemaVersion: 39,
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' }],
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
