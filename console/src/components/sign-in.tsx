import { useState } from 'preact/hooks';

/** The first page without a key, and the page a refused key comes back to (with the reason). */
export function SignIn({ problem, onSubmit }: { problem: string | null; onSubmit: (key: string) => void }) {
  const [key, setKey] = useState('');
  return (
    <main class="sign-in">
      <h1>Vigil</h1>
      <p>Sign in with an API key. It is kept in this tab's session storage only, and sent as a header, never in a URL.</p>
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim()) onSubmit(key.trim());
        }}
      >
        <label>
          API key
          <input name="apiKey" type="password" autoComplete="off" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">
        An ADMIN creates keys with <code>createApiKey</code>; explore the API at <a href="/graphql">/graphql</a>.
      </p>
    </main>
  );
}
