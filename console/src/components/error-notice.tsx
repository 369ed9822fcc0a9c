import { GraphqlFailure } from '../api/http.ts';

/** A failed read or action, with the API's code: FORBIDDEN, NOT_FOUND, BAD_USER_INPUT... */
export function ErrorNotice({ error }: { error: Error | null }) {
  if (!error) return null;
  const code = error instanceof GraphqlFailure && error.code ? `${error.code}: ` : '';
  return (
    <p class="error" role="alert">
      {code}
      {error.message}
    </p>
  );
}
