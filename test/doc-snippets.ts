/**
 * Keeps the TypeScript in the Markdown docs true: every ```ts block is type-checked under the
 * repository's own strict settings, and blocks marked `run` are executed. How to mark a block is
 * written down in docs/packaging.md ("Code in the docs"); in short:
 *
 * - ```ts            a fragment: type-checked as its own module. It may use, without defining them,
 *                    the names exported by test/doc-snippet-context.ts (an `app`, tasks such as
 *                    `add`, the canvas builders, stand-ins for a user's functions).
 *                    A line whose comment is `// error` or starts with `// error:` must fail to
 *                    compile; `// error: "text"` must fail with a message containing the text (`…`
 *                    matches anything). Any other error fails the check.
 * - ```ts run        a whole program: type-checked alone (no context names), then run with
 *                    REDIS_URL set; it must exit 0 by itself. A `console.log(…)` line ending in
 *                    `// value` must print exactly that line, in order.
 * - ```ts nocheck    pseudo-code that is not TypeScript (use sparingly; say why nearby).
 *
 * GitHub shows the first word of the info string as the language, so the marks are invisible.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const repoRoot: string = fileURLToPath(new URL('..', import.meta.url));
const contextFile = join(repoRoot, 'test', 'doc-snippet-context.ts');

export type SnippetMode = 'fragment' | 'run' | 'nocheck';

/** One fenced ```ts block of a Markdown file. */
export interface Snippet {
  /** The Markdown file, relative to the repository root. */
  readonly file: string;
  /** Line (1-based) of the block's first line of code in the Markdown file. */
  readonly line: number;
  readonly mode: SnippetMode;
  readonly code: string;
}

/** A block's info string marks that are not a known mode. */
export class SnippetMarkError extends Error {
  override readonly name = 'SnippetMarkError';
}

const FENCE = /^( {0,3})(`{3,}|~{3,})\s*([^`]*)$/;
const TS_LANGUAGES = new Set(['ts', 'typescript', 'mts']);

/** The ```ts blocks of a Markdown text, in order; other languages are ignored. */
export function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (open === null) continue;
    const [, , fence = '', info = ''] = open;
    const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !closing.test(lines[end] ?? '')) end++;
    const [language = '', ...marks] = info.trim().split(/\s+/);
    if (TS_LANGUAGES.has(language.toLowerCase())) {
      const unknown = marks.filter((mark) => mark !== 'run' && mark !== 'nocheck');
      if (unknown.length > 0 || marks.length > 1) {
        throw new SnippetMarkError(
          `${file}:${i + 1}: a ts block takes at most one mark, "run" or "nocheck"; got "${marks.join(' ')}"`,
        );
      }
      const mode: SnippetMode = marks[0] === 'run' ? 'run' : marks[0] === 'nocheck' ? 'nocheck' : 'fragment';
      snippets.push({ file, line: i + 2, mode, code: lines.slice(i + 1, end).join('\n') });
    }
    i = end;
  }
  return snippets;
}

/**
 * The Markdown files whose code is checked: every .md in the repository but changelogs and the
 * design notes that sit next to code in a `src/` directory (they may sketch wiring that does not
 * exist yet).
 */
export function docFiles(root: string = repoRoot): string[] {
  const skip = new Set(['node_modules', 'dist', 'coverage', '.git', '.changeset', 'src']);
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!skip.has(entry.name) && !entry.name.startsWith('.redis-')) walk(join(dir, entry.name));
      } else if (entry.name.endsWith('.md') && entry.name !== 'CHANGELOG.md') {
        found.push(relative(root, join(dir, entry.name)));
      }
    }
  };
  walk(root);
  return found.sort();
}

/** Every ```ts block of every doc file. */
export function allSnippets(root: string = repoRoot): Snippet[] {
  return docFiles(root).flatMap((file) => extractSnippets(readFileSync(join(root, file), 'utf8'), file));
}

/** What a `// error` comment on a line expects: any error, or one whose message has these parts in order. */
export interface ExpectedError {
  readonly line: number;
  readonly parts: readonly string[] | undefined;
}

/** `// error` ending the line, or `// error:` followed by an optional "quoted text" and any remark. */
const ERROR_MARK = /\/\/\s*error(?:\s*$|:\s*(?:"([^"]*)")?)/;

export function expectedErrors(code: string): ExpectedError[] {
  return code.split('\n').flatMap((text, i) => {
    const match = ERROR_MARK.exec(text);
    if (match === null) return [];
    return [{ line: i + 1, parts: match[1]?.split('…').map((part) => part.trim()).filter((part) => part !== '') }];
  });
}

/** Lines a `run` block must print: `console.log(…)  // value` → `value`. */
export function expectedOutput(code: string): string[] {
  return code.split('\n').flatMap((text) => {
    const match = /\bconsole\.log\(.*\/\/\s*(.+?)\s*$/.exec(text);
    return match?.[1] === undefined ? [] : [match[1]];
  });
}

/** Names declared at the top level of a module: imports, variables, functions, classes, types. */
function topLevelNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && statement.importClause !== undefined) {
      const { name, namedBindings } = statement.importClause;
      if (name !== undefined) names.add(name.text);
      if (namedBindings !== undefined && ts.isNamespaceImport(namedBindings)) names.add(namedBindings.name.text);
      if (namedBindings !== undefined && ts.isNamedImports(namedBindings)) {
        for (const element of namedBindings.elements) names.add(element.name.text);
      }
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) bind(declaration.name);
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name !== undefined
    ) {
      names.add(statement.name.text);
    }
  }
  return names;
}

/** The context's exports, split into values and types (verbatimModuleSyntax imports them differently). */
function contextExports(): { values: string[]; types: string[] } {
  const source = ts.createSourceFile(contextFile, readFileSync(contextFile, 'utf8'), ts.ScriptTarget.Latest);
  const values: string[] = [];
  const types: string[] = [];
  const exported = (node: ts.Node): boolean =>
    ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement) && statement.exportClause !== undefined && ts.isNamedExports(statement.exportClause)) {
      for (const element of statement.exportClause.elements) {
        (statement.isTypeOnly || element.isTypeOnly ? types : values).push(element.name.text);
      }
    } else if (exported(statement) && ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) values.push(d.name.text);
    } else if (exported(statement) && (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement))) {
      if (statement.name !== undefined) values.push(statement.name.text);
    } else if (exported(statement) && (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement))) {
      types.push(statement.name.text);
    }
  }
  return { values, types };
}

/**
 * The module a snippet is compiled as. A fragment gets, on its first line (so line numbers stay),
 * an import of every context name it does not declare itself.
 */
export function snippetModule(snippet: Snippet, context = contextExports()): string {
  const body = `${snippet.code}\nexport {};\n`;
  if (snippet.mode !== 'fragment') return body;
  const declared = topLevelNames(ts.createSourceFile('snippet.ts', snippet.code, ts.ScriptTarget.Latest));
  const path = relative(snippetDir, contextFile).split('\\').join('/').replace(/\.ts$/, '.js');
  const specifier = path.startsWith('.') ? path : `./${path}`;
  const values = context.values.filter((name) => !declared.has(name));
  const types = context.types.filter((name) => !declared.has(name));
  const imports = [
    values.length > 0 ? `import { ${values.join(', ')} } from '${specifier}';` : '',
    types.length > 0 ? `import type { ${types.join(', ')} } from '${specifier}';` : '',
  ].join(' ');
  return `${imports} ${body}`;
}

/**
 * Where the snippets' modules are placed (never written there): inside the repository, so that
 * `@celeriac/*` and third-party imports resolve as they do for the examples.
 */
const snippetDir = join(repoRoot, 'test', '.doc-snippets');

/** An app reads the environment variables it declares: the docs' programs read REDIS_URL. */
const ENVIRONMENT = `declare namespace NodeJS { interface ProcessEnv { readonly REDIS_URL?: string } }\n`;

export interface SnippetProblem {
  readonly snippet: Snippet;
  /** Line in the Markdown file. */
  readonly line: number;
  readonly message: string;
}

const where = (snippet: Snippet, line: number): string => `${snippet.file}:${snippet.line + line - 1}`;

/**
 * Type-checks the snippets (all but `nocheck`) in one program with the compiler options of the
 * root tsconfig.json, and returns every problem: an unexpected error, or an expected one missing.
 */
export function typeCheckSnippets(snippets: readonly Snippet[]): SnippetProblem[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(repoRoot, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (config === undefined) throw new Error('cannot read tsconfig.json');
  const context = contextExports();
  const checked = snippets.filter((s) => s.mode !== 'nocheck');
  const virtual = new Map<string, string>();
  const fileOf = new Map<Snippet, string>();
  checked.forEach((snippet, i) => {
    const path = join(snippetDir, `${snippet.file.replace(/[^\w]+/g, '-')}-${snippet.line}-${i}.ts`);
    fileOf.set(snippet, path);
    virtual.set(path, snippetModule(snippet, context));
  });
  const environment = join(snippetDir, 'environment.d.ts');
  virtual.set(environment, ENVIRONMENT);

  const host = ts.createCompilerHost(config.options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (path) => virtual.has(resolve(path)) || fileExists.call(host, path);
  host.readFile = (path) => virtual.get(resolve(path)) ?? readFile.call(host, path);
  host.getSourceFile = (path, language, onError, create) => {
    const text = virtual.get(resolve(path));
    return text === undefined
      ? getSourceFile.call(host, path, language, onError, create)
      : ts.createSourceFile(path, text, language, true);
  };
  const program = ts.createProgram({
    rootNames: [...virtual.keys(), contextFile],
    options: { ...config.options, noEmit: true },
    host,
  });

  const problems: SnippetProblem[] = [];
  const global = program.getGlobalDiagnostics().concat(program.getOptionsDiagnostics());
  for (const d of global) {
    problems.push({ snippet: checked[0]!, line: 0, message: ts.flattenDiagnosticMessageText(d.messageText, '\n') });
  }
  for (const snippet of checked) {
    const source = program.getSourceFile(fileOf.get(snippet)!)!;
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    const found = diagnostics.map((d) => ({
      line: d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line + 1,
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    }));
    const expected = snippet.mode === 'fragment' ? expectedErrors(snippet.code) : [];
    for (const error of found) {
      if (!expected.some((e) => e.line === error.line)) {
        problems.push({ snippet, line: error.line, message: `${where(snippet, error.line)}: ${error.message}` });
      }
    }
    for (const { line, parts } of expected) {
      const messages = found.filter((f) => f.line === line).map((f) => f.message);
      const matches = messages.some((message) => {
        let at = 0;
        return (parts ?? []).every((part) => (at = message.indexOf(part, at)) >= 0);
      });
      if (!matches) {
        const wanted = parts === undefined ? 'an error' : `an error containing "${parts.join(' … ')}"`;
        const got = messages.length === 0 ? 'it compiles' : `got: ${messages.join(' | ')}`;
        problems.push({ snippet, line, message: `${where(snippet, line)}: marked \`// error\`, expected ${wanted}, but ${got}` });
      }
    }
  }
  return problems;
}

export interface SnippetRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/**
 * Runs a `run` snippet as its own process — `node --import tsx --conditions=@celeriac/source`, as
 * the examples run — from a scratch directory whose node_modules is the repository's.
 */
export async function runSnippet(snippet: Snippet, redisUrl: string, timeoutMs = 60_000): Promise<SnippetRun> {
  const dir = mkdtempSync(join(tmpdir(), 'celeriac-doc-snippet-'));
  try {
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const file = join(dir, 'snippet.ts');
    writeFileSync(file, snippet.code);
    return await new Promise<SnippetRun>((done, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@celeriac/source', file], {
        cwd: dir,
        env: { ...process.env, REDIS_URL: redisUrl },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        done({ code, stdout, stderr, timedOut });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
