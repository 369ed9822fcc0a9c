import type { SettingGuide } from '../types.ts';

/** A setting's value as text, short enough for a table cell (the full value is in the title). */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'none';
  return text.length > 48 ? `${text.slice(0, 45)}…` : text;
}

interface SettingRow extends SettingGuide {
  value: unknown;
  /** Set by someone (or computed from other settings): not simply the stated default. */
  changed: boolean;
}

/** The detector's stored settings beside the guide's words for them; settings the guide does not know are listed too. */
export function settingRows(params: Record<string, unknown>, guide: readonly SettingGuide[]): SettingRow[] {
  const known = guide
    .filter((s) => s.name in params)
    .map((s) => ({ ...s, value: params[s.name], changed: !s.hasDefault || JSON.stringify(params[s.name]) !== JSON.stringify(s.default) }));
  const unknown = Object.keys(params)
    .filter((name) => !guide.some((s) => s.name === name))
    .map((name) => ({ name, description: 'Not described by this server.', accepts: '', hasDefault: false, default: null, value: params[name], changed: true }));
  return [...known, ...unknown];
}

/** The settings that differ from their defaults, each explained on hover; "defaults" when none does. */
export function ChangedSettings({ rows }: { rows: SettingRow[] }) {
  const changed = rows.filter((r) => r.changed);
  if (changed.length === 0) return <span class="muted">defaults</span>;
  return (
    <span class="settings">
      {changed.map((r) => (
        <span class="setting" key={r.name} title={`${r.description}\n${JSON.stringify(r.value)}`}>
          {r.name} <b>{shown(r.value)}</b>
        </span>
      ))}
    </span>
  );
}

/** Every setting of a detector: its value, default and meaning, so nobody needs the docs to read one. */
export function SettingsExplained({ rows }: { rows: SettingRow[] }) {
  return (
    <table class="grid settings-guide" data-testid="settings-explained">
      <thead>
        <tr>
          <th>Setting</th>
          <th>Value</th>
          <th>Default</th>
          <th>Meaning</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.name} class={r.changed ? 'changed' : undefined}>
            <td>
              <code>{r.name}</code>
            </td>
            <td title={JSON.stringify(r.value)}>{shown(r.value)}</td>
            <td>{r.hasDefault ? shown(r.default) : <span class="muted">—</span>}</td>
            <td>
              {r.description}
              {r.accepts ? <span class="muted small"> Accepts: {r.accepts}.</span> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
