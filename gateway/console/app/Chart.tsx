/** Billed bytes per day as bars (uPlot), with the numbers also in a table for screen readers. */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import { formatBytes } from './format';

export interface DailyBytes {
  readonly date: string;
  readonly billedBytes: number;
}

export function DailyBytesChart({ title, days }: { title: string; days: readonly DailyBytes[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return undefined;
    const x = days.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000);
    const y = days.map((d) => d.billedBytes);
    const plot = new uPlot({
      width: Math.max(320, box.current.clientWidth),
      height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      // Half a day either side, so the first and last bars are whole.
      scales: { x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] }, y: { range: (_u, _min, max) => [0, Math.max(max, 1)] } },
      axes: [{}, { values: (_u, ticks) => ticks.map((t) => formatBytes(t)), size: 80 }],
      series: [{}, { label: 'billed', stroke: '#1d4ed8', fill: 'rgba(29, 78, 216, 0.25)', paths: uPlot.paths.bars!({ size: [0.7, 40] }), points: { show: false }, value: (_u, v) => (v === null ? '—' : formatBytes(v)) }],
      legend: { show: true },
    }, [x, y], box.current);
    return () => plot.destroy();
  }, [days]);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} className="chart-canvas" aria-hidden="true" data-days={days.length} data-total={days.reduce((sum, d) => sum + d.billedBytes, 0)} />
      <details>
        <summary>The numbers</summary>
        <table>
          <thead><tr><th scope="col">day</th><th scope="col">billed</th></tr></thead>
          <tbody>{days.map((d) => <tr key={d.date}><td>{d.date}</td><td title={`${d.billedBytes} bytes`}>{formatBytes(d.billedBytes)}</td></tr>)}</tbody>
        </table>
      </details>
    </figure>
  );
}
