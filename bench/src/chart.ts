/** One bar group of the chart: a workload with µs per field per variant. */
export interface ChartGroup {
  readonly label: string;
  readonly values: Readonly<Record<string, number | null>>;
}

const COLORS: Record<string, string> = { keystrata: '#2563eb', peer: '#f97316', raw: '#16a34a' };

/**
 * A small dependency-free SVG bar chart of per-field overhead (µs) by workload and variant.
 */
export function barChart(title: string, groups: readonly ChartGroup[], variants: readonly string[]): string {
  const width = 760,
    height = 320,
    left = 60,
    bottom = 60,
    top = 40;
  const max = Math.max(1, ...groups.flatMap((g) => variants.map((v) => g.values[v] ?? 0)));
  const groupWidth = (width - left - 20) / Math.max(1, groups.length);
  const barWidth = (groupWidth - 16) / variants.length;
  const y = (value: number) => top + (height - top - bottom) * (1 - value / max);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${title}</text>`,
    `<line x1="${left}" y1="${y(0)}" x2="${width - 10}" y2="${y(0)}" stroke="#888"/>`,
  ];
  for (let tick = 0; tick <= 4; tick++) {
    const value = (max * tick) / 4;
    parts.push(`<text x="${left - 6}" y="${y(value) + 4}" text-anchor="end" fill="#555">${value.toFixed(value < 10 ? 1 : 0)}</text>`);
    parts.push(`<line x1="${left}" y1="${y(value)}" x2="${width - 10}" y2="${y(value)}" stroke="#eee"/>`);
  }
  groups.forEach((group, g) => {
    const x0 = left + g * groupWidth + 8;
    variants.forEach((variant, v) => {
      const value = group.values[variant];
      if (value === null || value === undefined) return;
      const x = x0 + v * barWidth;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(Math.max(0, value)).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(y(0) - y(Math.max(0, value))).toFixed(1)}" fill="${COLORS[variant] ?? '#999'}"><title>${variant}: ${value.toFixed(2)} µs</title></rect>`,
      );
      parts.push(
        `<text x="${(x + (barWidth - 2) / 2).toFixed(1)}" y="${(y(Math.max(0, value)) - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#333">${value < 10 ? value.toFixed(1) : value.toFixed(0)}</text>`,
      );
    });
    parts.push(`<text x="${(x0 + groupWidth / 2 - 8).toFixed(1)}" y="${height - bottom + 18}" text-anchor="middle">${group.label}</text>`);
  });
  variants.forEach((variant, v) => {
    parts.push(`<rect x="${left + v * 110}" y="${height - 22}" width="12" height="12" fill="${COLORS[variant] ?? '#999'}"/><text x="${left + v * 110 + 18}" y="${height - 12}">${variant}</text>`);
  });
  parts.push(
    `<text x="14" y="${top + (height - top - bottom) / 2}" transform="rotate(-90 14 ${top + (height - top - bottom) / 2})" text-anchor="middle" fill="#555">µs per encrypted field (overhead over plain)</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * Stacks complete SVG documents (e.g. one {@link barChart} per ORM) vertically into one SVG.
 * Each panel must carry numeric `width` and `height` attributes.
 */
export function stackCharts(panels: readonly string[]): string {
  const sizes = panels.map((svg) => {
    const match = /<svg[^>]*\swidth="(\d+(?:\.\d+)?)"[^>]*\sheight="(\d+(?:\.\d+)?)"/.exec(svg);
    return { width: Number(match?.[1] ?? 0), height: Number(match?.[2] ?? 0) };
  });
  const width = Math.max(1, ...sizes.map((s) => s.width));
  const height = sizes.reduce((sum, s) => sum + s.height, 0);
  let y = 0;
  const nested = panels.map((svg, i) => {
    const placed = svg.replace('<svg ', `<svg x="0" y="${y}" `);
    y += sizes[i]!.height;
    return placed;
  });
  return [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`, ...nested, '</svg>'].join('\n');
}
