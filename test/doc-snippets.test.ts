import { describe, expect, it } from 'vitest';
import {
  expectedErrors,
  expectedOutput,
  extractSnippets,
  SnippetMarkError,
  snippetModule,
  typeCheckSnippets,
  type Snippet,
} from './doc-snippets.js';

const fence = '```';

describe('extractSnippets', () => {
  it('finds ts blocks with their mode and the Markdown line of their first line of code', () => {
    const markdown = [
      '# Title', //                                  1
      `${fence}ts`, //                                2
      'const a = 1;', //                              3
      fence, //                                       4
      `${fence}sh`, //                                5
      'npm test', //                                  6
      fence, //                                       7
      `${fence}ts run`, //                            8
      "console.log('x'); // x", //                    9
      fence, //                                       10
      `${fence}typescript nocheck`, //                11
      '{ kind: ... }', //                             12
      fence, //                                       13
      '````md', //                                    14
      `${fence}ts`, //                                15: inside a longer fence, not a block
      fence, //                                       16
      '````', //                                      17
    ].join('\n');
    expect(extractSnippets(markdown, 'doc.md')).toEqual([
      { file: 'doc.md', line: 3, mode: 'fragment', code: 'const a = 1;' },
      { file: 'doc.md', line: 9, mode: 'run', code: "console.log('x'); // x" },
      { file: 'doc.md', line: 12, mode: 'nocheck', code: '{ kind: ... }' },
    ]);
  });

  it('refuses an unknown mark, naming the file and line', () => {
    expect(() => extractSnippets(`text\n${fence}ts runn\nx\n${fence}\n`, 'doc.md')).toThrow(SnippetMarkError);
    expect(() => extractSnippets(`text\n${fence}ts runn\nx\n${fence}\n`, 'doc.md')).toThrow(/doc\.md:2: .*"runn"/);
  });
});

describe('comment marks', () => {
  it('read `// error` and `// error: "text … text"`, but not a comment that merely starts with the word', () => {
    const code = [
      'f(1); // error',
      'f(2); // error: "not assignable … parameter"',
      'f(3); // error: [number, string] is not number[]',
      "f(4); // error classes or error names",
      'f(5); // ok',
    ].join('\n');
    expect(expectedErrors(code)).toEqual([
      { line: 1, parts: undefined },
      { line: 2, parts: ['not assignable', 'parameter'] },
      { line: 3, parts: undefined },
    ]);
  });

  it('read the expected output of console.log lines', () => {
    expect(expectedOutput('console.log(await a());   // 16\nawait b(); // 8\nconsole.log(c) //  [1, 2] ')).toEqual(['16', '[1, 2]']);
  });
});

const snippet = (code: string, mode: Snippet['mode'] = 'fragment'): Snippet => ({ file: 'doc.md', line: 10, mode, code });

// Each check compiles a program that loads the runtime's types: a few seconds on a cold cache.
describe('typeCheckSnippets', { timeout: 30_000 }, () => {
  it('gives a fragment the context names it does not declare, on its first line', () => {
    const code = "import { chain } from '@celeriac/canvas';\nconst add = 1;\nchain;";
    const module = snippetModule(snippet(code));
    const injected = module.slice(0, module.indexOf(code));
    expect(injected).toMatch(/^import \{ [^}]*\bapp\b[^}]* \} from '\.\.\/doc-snippet-context\.js'; /);
    expect(injected).toMatch(/import type \{ TaskContext \}/);
    expect(injected).toMatch(/\bmul\b/);
    expect(injected).not.toMatch(/\b(chain|add)\b/);
    expect(injected).not.toContain('\n'); // so the code keeps its line numbers
  });

  it('passes correct code and reports unexpected errors at their Markdown line', () => {
    const problems = typeCheckSnippets([
      snippet("const n: number = add.s(1, 2) === undefined ? 0 : 1;\nvoid n;"),
      snippet("const s: string = 1;\nvoid s;"),
    ]);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^doc\.md:10: Type 'number' is not assignable to type 'string'/),
    ]);
  });

  it('requires the errors that `// error` marks, with their text', () => {
    const problems = typeCheckSnippets([
      snippet("chain(add.s(2, 2), upper.s());   // error: \"the previous result is not assignable to the first unbound parameter\""),
      snippet("chain(add.s(2, 2), add.s(4));    // error"),
      snippet("chain(add.s(2, 2), upper.s());   // error: \"some other message\""),
    ]);
    expect(problems.map((p) => p.message)).toEqual([
      'doc.md:10: marked `// error`, expected an error, but it compiles',
      expect.stringMatching(/^doc\.md:10: marked `\/\/ error`, expected an error containing "some other message", but got: .*not assignable to the first unbound parameter/s),
    ]);
  });

  it('checks a run block alone, without the context names', () => {
    const problems = typeCheckSnippets([snippet('console.log(add);', 'run')]);
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/^doc\.md:10: Cannot find name 'add'/)]);
  });
});
