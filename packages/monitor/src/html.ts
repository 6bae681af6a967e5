/**
 * HTML built from tagged templates that escape every value: the one way the pages are written, so
 * a task whose args hold `<script>` shows as text. A value is trusted only when it is itself an
 * {@link Html} made by the tag (or by {@link rawHtml} for fixed markup).
 */

/** A piece of HTML that is safe to send: every value in it was escaped. */
export class Html {
  /** @internal use the `html` tag. */
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

/** What a template may hold: text (escaped), numbers, HTML, lists of these; null, undefined and false print nothing. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML content and quoted attribute values.
 *
 * @param text - any text
 * @returns the text with `& < > " '` escaped
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

function append(out: string[], value: HtmlValue): void {
  if (value === null || value === undefined || value === false || value === true) return;
  if (value instanceof Html) out.push(value.text);
  else if (typeof value === 'number') out.push(String(value));
  else if (typeof value === 'string') out.push(escapeHtml(value));
  else for (const item of value) append(out, item);
}

/**
 * The template tag: `html\`<td>${task.args}</td>\`` escapes `task.args`.
 *
 * @returns the HTML
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  const out: string[] = [strings[0]!];
  values.forEach((value, i) => {
    append(out, value);
    out.push(strings[i + 1]!);
  });
  return new Html(out.join(''));
}

/**
 * Markup written in the code itself (never data), taken as it is.
 *
 * @param markup - fixed HTML
 * @returns it, as HTML
 */
export function rawHtml(markup: string): Html {
  return new Html(markup);
}
