import { useEffect, useState } from 'preact/hooks';

/** Pages are addressed by the URL fragment (#/incidents/inc_...), so the gateway serves one page. */
export type Route =
  | { page: 'overview' }
  | { page: 'stream'; id: string }
  | { page: 'incidents' }
  | { page: 'incident'; id: string }
  | { page: 'postmortem'; id: string }
  | { page: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [first, id, sub] = parts;
  if (!first) return { page: 'overview' };
  if (first === 'streams' && id && !sub) return { page: 'stream', id };
  if (first === 'incidents' && !id) return { page: 'incidents' };
  if (first === 'incidents' && id && !sub) return { page: 'incident', id };
  if (first === 'incidents' && id && sub === 'postmortem') return { page: 'postmortem', id };
  return { page: 'not-found', path: hash };
}

export const href = {
  overview: () => '#/',
  stream: (id: string) => `#/streams/${encodeURIComponent(id)}`,
  incidents: () => '#/incidents',
  incident: (id: string) => `#/incidents/${encodeURIComponent(id)}`,
  postmortem: (id: string) => `#/incidents/${encodeURIComponent(id)}/postmortem`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
