/**
 * The frame of every page: the header with the navigation, the stylesheet and script served by
 * the monitor itself (no CDN), and what the script needs — the URL prefix, the CSRF token, whether
 * actions are allowed — in `data-` attributes (the page allows no inline script).
 */
import { ASSET_VERSION } from '../assets.generated.js';
import { html, rawHtml, type Html } from '../html.js';

/** What the frame needs to know about the request. */
export interface PageFrame {
  readonly prefix: string;
  readonly csrf: string;
  readonly readOnly: boolean;
  /** The app's name, shown in the header. */
  readonly appName: string;
}

/** A page's own parts. */
export interface PageParts {
  readonly title: string;
  /** Which navigation entry is current. */
  readonly nav: 'workers' | 'tasks' | 'workflows' | 'broker';
  /** The page's name, for the script (`data-page`). */
  readonly page: string;
  readonly body: Html;
  /** More `data-` attributes for the body, for the script (keys are fixed names in the code). */
  readonly data?: Readonly<Record<string, string>>;
}

const NAV: readonly [PageParts['nav'], string, string][] = [
  ['workers', '/workers', 'Workers'],
  ['tasks', '/tasks', 'Tasks'],
  ['workflows', '/workflows', 'Workflows'],
  ['broker', '/broker', 'Broker'],
];

/**
 * A whole page.
 *
 * @param frame - request-wide values
 * @param parts - the page's title, navigation entry and body
 * @returns the document
 */
export function page(frame: PageFrame, parts: PageParts): Html {
  const { prefix } = frame;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${parts.title} · ${frame.appName} · Celeriac monitor</title>
<link rel="icon" href="${prefix}/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${prefix}/static/monitor.css?v=${ASSET_VERSION}">
<script src="${prefix}/static/monitor.js?v=${ASSET_VERSION}" defer></script>
</head>
<body data-page="${parts.page}" data-prefix="${prefix}" data-csrf="${frame.csrf}" data-read-only="${frame.readOnly ? 'true' : 'false'}"${Object.entries(parts.data ?? {}).map(([key, value]) => html` data-${rawHtml(key.replace(/[^a-z0-9-]/g, ''))}="${value}"`)}>
<header class="top">
  <a class="brand" href="${prefix}/">Celeriac <span>monitor</span></a>
  <nav>${NAV.map(([key, path, label]) => html`<a href="${prefix}${path}"${key === parts.nav ? html` class="current" aria-current="page"` : ''}>${label}</a>`)}</nav>
  <span class="app-name" title="app">${frame.appName}</span>
  ${frame.readOnly ? html`<span class="pill muted" title="started with readOnly: actions are hidden and refused">read-only</span>` : ''}
</header>
<main>
${parts.body}
</main>
<div id="toast" role="status" aria-live="polite" hidden></div>
</body>
</html>
`;
}
