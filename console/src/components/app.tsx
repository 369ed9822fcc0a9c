import { useEffect, useState } from 'preact/hooks';
import { GraphqlFailure, gql, KEY_REFUSED_EVENT } from '../api/http.ts';
import { VIEWER } from '../api/documents.ts';
import { live } from '../api/live.ts';
import { useRoute } from '../router.ts';
import { forgetKey, storedKey, storeKey } from '../session.ts';
import type { Viewer } from '../types.ts';
import { IncidentPage } from './incident-page.tsx';
import { IncidentsPage } from './incidents-page.tsx';
import { Layout } from './layout.tsx';
import { NotFound } from './not-found.tsx';
import { OverviewPage } from './overview-page.tsx';
import { PostmortemPage } from './postmortem-page.tsx';
import { SignIn } from './sign-in.tsx';
import { StreamPage } from './stream-page.tsx';

type Session = { kind: 'signed-out'; problem: string | null } | { kind: 'checking' } | { kind: 'signed-in'; viewer: Viewer };

/** Signs in with an API key (asks `viewer` who it is), then shows the page the URL names. */
export function App() {
  const [session, setSession] = useState<Session>(() => (storedKey() ? { kind: 'checking' } : { kind: 'signed-out', problem: null }));
  const route = useRoute();

  const check = (key: string) => {
    setSession({ kind: 'checking' });
    gql<{ viewer: Viewer }>(VIEWER, {}, key).then(
      ({ viewer }) => {
        storeKey(key);
        live.reset();
        setSession({ kind: 'signed-in', viewer });
      },
      (error: Error) => {
        forgetKey();
        const refused = error instanceof GraphqlFailure && error.code === 'UNAUTHENTICATED';
        setSession({ kind: 'signed-out', problem: refused ? `This API key was refused: ${error.message}` : `Could not sign in: ${error.message}` });
      },
    );
  };

  useEffect(() => {
    const key = storedKey();
    if (key) check(key);
  }, []);

  // A key revoked while signed in: the next request is refused, and the person signs in again.
  useEffect(() => {
    const onRefused = (event: Event) => {
      forgetKey();
      live.reset();
      setSession({ kind: 'signed-out', problem: `This API key was refused: ${String((event as CustomEvent<string>).detail)}` });
    };
    addEventListener(KEY_REFUSED_EVENT, onRefused);
    return () => removeEventListener(KEY_REFUSED_EVENT, onRefused);
  }, []);

  const signOut = () => {
    forgetKey();
    live.reset();
    setSession({ kind: 'signed-out', problem: null });
  };

  if (session.kind === 'checking') return <p class="centered">Checking your API key…</p>;
  if (session.kind === 'signed-out') return <SignIn problem={session.problem} onSubmit={check} />;
  const { role } = session.viewer;
  return (
    <Layout viewer={session.viewer} route={route} onSignOut={signOut}>
      {route.page === 'overview' && <OverviewPage role={role} />}
      {route.page === 'stream' && <StreamPage id={route.id} role={role} />}
      {route.page === 'incidents' && <IncidentsPage />}
      {route.page === 'incident' && <IncidentPage id={route.id} role={role} me={session.viewer.apiKey.name} />}
      {route.page === 'postmortem' && <PostmortemPage id={route.id} />}
      {route.page === 'not-found' && <NotFound path={route.path} />}
    </Layout>
  );
}
