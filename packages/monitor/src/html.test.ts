import { describe, expect, it } from 'vitest';
import { escapeHtml, html, rawHtml } from './html.js';

describe('html', () => {
  it('escapes every interpolated string, so markup in data shows as text', () => {
    const args = '["<script>alert(1)</script>", "\\" onmouseover=\\"x", \'it\'s\', "a&b"]';
    expect(html`<td title="${args}">${args}</td>`.text).toBe(
      '<td title="[&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;, &quot;\\&quot; onmouseover=\\&quot;x&quot;, &#39;it&#39;s&#39;, &quot;a&amp;b&quot;]">[&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;, &quot;\\&quot; onmouseover=\\&quot;x&quot;, &#39;it&#39;s&#39;, &quot;a&amp;b&quot;]</td>',
    );
  });

  it('keeps nested templates and lists as they are, and prints nothing for null, undefined and booleans', () => {
    const rows = ['<a>', 'b'].map((cell) => html`<td>${cell}</td>`);
    expect(html`<tr>${rows}${null}${undefined}${false}${true}${3}</tr>`.text).toBe('<tr><td>&lt;a&gt;</td><td>b</td>3</tr>');
    expect(html`${rawHtml('<b>fixed</b>')}`.text).toBe('<b>fixed</b>');
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });
});
