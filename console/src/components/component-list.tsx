/** PostgreSQL, Redis, Kafka and the workers (with how many are alive), from `health.components`. */
export function ComponentList({ components }: { components: { name: string; status: string; detail: string | null }[] }) {
  return (
    <ul class="components">
      {components.map((c) => (
        <li key={c.name} data-testid={`component-${c.name}`}>
          <span class={`pill ${c.status.toLowerCase()}`}>{c.status}</span> {c.name}
          {c.detail && <span class="muted"> — {c.detail}</span>}
        </li>
      ))}
    </ul>
  );
}
