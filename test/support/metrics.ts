// A manager's Prometheus /metrics as tests read it: the samples with their labels, and the declared types.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export async function scrape(port: number): Promise<{ samples: Sample[]; types: Map<string, string> }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

/**
 * The "group/resource:verb" a manager's requests needed (answered ones: 2xx or 4xx), and those the API server
 * refused with 403 Forbidden, from its /metrics (vmop_kube_api_requests_total).
 */
export async function apiUsage(port: number): Promise<{ used: Set<string>; forbidden: string[] }> {
  const used = new Set<string>();
  const forbidden: string[] = [];
  for (const { name, labels, value } of (await scrape(port)).samples) {
    if (name !== 'vmop_kube_api_requests_total' || !value) continue;
    const permission = `${labels.group}/${labels.resource}:${labels.verb}`;
    if (/^[24]/.test(labels.code ?? '')) used.add(permission);
    if (labels.code === '403') forbidden.push(permission);
  }
  return { used, forbidden };
}
