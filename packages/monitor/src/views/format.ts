/**
 * Small pieces every page uses: times, durations, state badges, shortened text, links.
 */
import { html, type Html } from '../html.js';

/**
 * A time, as `<time>`; the page's script shows it in the reader's time zone.
 *
 * @param ms - epoch ms, or null
 * @returns the element, or a dash
 */
export function time(ms: number | null | undefined): Html {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return html`<span class="muted">—</span>`;
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}" title="${iso}">${iso.slice(11, 19)}</time>`;
}

/**
 * A duration such as `812 ms`, `3.2 s`, `4 min 10 s`, `2 h 5 min`, `3 d 4 h`.
 *
 * @param ms - milliseconds
 * @returns the text
 */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = ms / 1_000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/**
 * A state as a coloured badge; the page's script recolours it live via `data-state`.
 *
 * @param state - a task state
 * @returns the badge
 */
export function badge(state: string): Html {
  return html`<span class="badge state-${cssToken(state)}" data-state="${state}">${state}</span>`;
}

/** A value safe inside a class name: letters, digits, `-` and `_`. */
export function cssToken(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * Text cut to `max` characters, with an ellipsis.
 *
 * @param text - any text
 * @param max - characters kept
 * @returns the text, cut
 */
export function shorten(text: string | null | undefined, max: number): string {
  if (text === null || text === undefined) return '';
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * A path segment for an id or a name: every character outside the unreserved set is encoded.
 *
 * @param segment - the raw value
 * @returns it, encoded
 */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

/**
 * A number with thousands separators (a thin space), as `100 000`.
 *
 * @param n - a number
 * @returns the text
 */
export function count(n: number): string {
  return n.toLocaleString('en-US').replace(/,/g, '\u202f');
}
