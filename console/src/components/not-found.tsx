import { href } from '../router.ts';

export function NotFound({ path }: { path: string }) {
  return (
    <section>
      <h1>No such page</h1>
      <p>
        Nothing lives at <code>{path}</code>. Go to the <a href={href.overview()}>overview</a>.
      </p>
    </section>
  );
}
