import { percent } from '../format.ts';
import type { Detector } from '../types.ts';

/** Each detector with its version, kind, parameters, precision from labels and drifting flag. */
export function DetectorsTable({ detectors }: { detectors: Detector[] }) {
  if (detectors.length === 0) return <p class="muted">No detector.</p>;
  return (
    <table class="grid" data-testid="detectors">
      <thead>
        <tr>
          <th>Name</th>
          <th>Kind</th>
          <th>Version</th>
          <th>Mode</th>
          <th>Params</th>
          <th class="num">Precision</th>
          <th>Drift</th>
        </tr>
      </thead>
      <tbody>
        {detectors.map((d) => (
          <tr key={d.id}>
            <td>
              {d.name}
              <div class="muted small">{d.field}</div>
            </td>
            <td>{d.kind}</td>
            <td>v{d.version}</td>
            <td>{d.mode}</td>
            <td>
              <code class="params">{JSON.stringify(d.params)}</code>
            </td>
            <td class="num" title={`${d.stats.truePositives} true, ${d.stats.falsePositives} false of ${d.stats.anomalies}`}>
              {percent(d.stats.precision)}
            </td>
            <td>{d.drifting ? <span class="pill degraded">drifting</span> : <span class="muted">stable</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
