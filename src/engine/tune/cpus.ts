// CPU lists as the kernel writes them (sysfs, /proc, the kernel command
// line), read and written once for the checklist and the tuned layout.

/** A CPU list as the kernel writes it ("0-2,5", "all", "1-7:2/4"), as core numbers; online: what "all" and "N" mean. */
export function parseCpuList(text: string, online: number[] = []): number[] {
  const cores = new Set<number>();
  const last = online.length ? Math.max(...online) : 0;
  for (const part of text.trim().split(',')) {
    if (part === '' || part === '(null)') continue;
    if (part === 'all') {
      online.forEach((c) => cores.add(c));
      continue;
    }
    const m = /^(\d+|N)(?:-(\d+|N)(?::(\d+)\/(\d+))?)?$/.exec(part);
    if (!m) continue;   // isolcpus' flags (domain, managed_irq, nohz)
    const core = (s: string) => (s === 'N' ? last : Number(s));
    const [from, to] = [core(m[1]), core(m[2] ?? m[1])];
    const [used, group] = [Number(m[3] ?? 1), Number(m[4] ?? 1)];
    for (let c = from; c <= to; c++) if ((c - from) % group < used) cores.add(c);
  }
  return [...cores].sort((a, b) => a - b);
}

/** Core numbers as the kernel writes a CPU list: [0, 1, 2, 5] is "0-2,5". */
export function formatCpuList(cores: number[]): string {
  const sorted = [...new Set(cores)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    ranges.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j;
  }
  return ranges.join(',');
}
