import { duration, number, time } from '../format.ts';
import type { Sla } from '../types.ts';

/** SLAs with whether they are met now, the current figure and when it was judged. */
export function SlasTable({ slas }: { slas: Sla[] }) {
  if (slas.length === 0) return <p class="muted">No SLA.</p>;
  return (
    <table class="grid" data-testid="slas">
      <thead>
        <tr>
          <th>Name</th>
          <th>Objective</th>
          <th class="num">Threshold</th>
          <th>Window</th>
          <th>State</th>
          <th class="num">Current</th>
          <th>Evaluated</th>
        </tr>
      </thead>
      <tbody>
        {slas.map((s) => (
          <tr key={s.id}>
            <td>{s.name}</td>
            <td>{s.objective}</td>
            <td class="num">{number(s.threshold, 3)}</td>
            <td>{duration(s.windowSeconds)}</td>
            <td>{s.state.met ? <span class="pill ok">met</span> : <span class="pill down">breached</span>}</td>
            <td class="num">{number(s.state.current, 3)}</td>
            <td>{time(s.state.evaluatedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
