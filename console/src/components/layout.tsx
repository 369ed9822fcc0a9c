import type { ComponentChildren } from 'preact';
import { href, type Route } from '../router.ts';
import type { Viewer } from '../types.ts';
import { StatusBanners } from './status-banners.tsx';

const TABS = [
  { label: 'Overview', link: href.overview(), pages: ['overview', 'stream'] },
  { label: 'Incidents', link: href.incidents(), pages: ['incidents', 'incident', 'postmortem'] },
];

/** Navigation, who is signed in, and the banners for a degraded service or a dropped live connection. */
export function Layout({ viewer, route, onSignOut, children }: { viewer: Viewer; route: Route; onSignOut: () => void; children: ComponentChildren }) {
  return (
    <div class="layout">
      <header class="top">
        <a class="brand" href={href.overview()}>
          Vigil
        </a>
        <nav>
          {TABS.map((tab) => (
            <a key={tab.label} href={tab.link} class={tab.pages.includes(route.page) ? 'active' : ''}>
              {tab.label}
            </a>
          ))}
          <a href="/graphql" target="_blank" rel="noopener">
            GraphiQL
          </a>
        </nav>
        <span class="who" data-testid="who">
          {viewer.apiKey.name} · <strong>{viewer.role}</strong>
        </span>
        <button class="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <StatusBanners />
      <main class="content">{children}</main>
    </div>
  );
}
