import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { percent } from '../format.ts';
import type { Detector, SettingGuide } from '../types.ts';
import { ChangedSettings, SettingsExplained, settingRows } from './detector-settings.tsx';

const COLUMNS = 7;

/**
 * Each detector with its version, kind, the settings it changed from the defaults,
 * precision from labels and drifting flag; "Explain" opens every setting with its meaning.
 */
export function DetectorsTable({ detectors, guide }: { detectors: Detector[]; guide: Readonly<Record<string, SettingGuide[]>> }) {
  const [open, setOpen] = useState<string | null>(null);
  if (detectors.length === 0) return <p class="muted">No detector.</p>;
  return (
    <table class="grid" data-testid="detectors">
      <thead>
        <tr>
          <th>Name</th>
          <th>Kind</th>
          <th>Version</th>
          <th>Mode</th>
          <th>Settings</th>
          <th class="num">Precision</th>
          <th>Drift</th>
        </tr>
      </thead>
      <tbody>
        {detectors.map((d) => {
          const rows = settingRows((d.params ?? {}) as Record<string, unknown>, guide[d.kind] ?? []);
          const expanded = open === d.id;
          return (
            <Fragment key={d.id}>
              <tr>
                <td>
                  {d.name}
                  <div class="muted small">{d.field}</div>
                </td>
                <td>{d.kind}</td>
                <td>v{d.version}</td>
                <td>{d.mode}</td>
                <td>
                  <ChangedSettings rows={rows} />{' '}
                  <button class="link-inline" aria-expanded={expanded} onClick={() => setOpen(expanded ? null : d.id)}>
                    {expanded ? 'Hide' : 'Explain'}
                  </button>
                </td>
                <td class="num" title={`${d.stats.truePositives} true, ${d.stats.falsePositives} false of ${d.stats.anomalies}`}>
                  {percent(d.stats.precision)}
                </td>
                <td>{d.drifting ? <span class="pill degraded">drifting</span> : <span class="muted">stable</span>}</td>
              </tr>
              {expanded ? (
                <tr class="explained">
                  <td colSpan={COLUMNS}>
                    <SettingsExplained rows={rows} />
                  </td>
                </tr>
              ) : null}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}
