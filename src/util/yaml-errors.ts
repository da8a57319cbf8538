import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { TierdError, type ErrorCode } from './errors.js';

export interface ParsedYaml {
  value: unknown;
  doc: Document;
  lines: LineCounter;
}

/** Parse YAML text, turning syntax errors into one-line errors with the line. */
export function parseYaml(text: string, file: string, code: ErrorCode): ParsedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lines.linePos(e.pos[0]);
    throw new TierdError(code, `${file}:${pos.line}: invalid YAML: ${e.message.split('\n')[0]}`, 'fix the YAML syntax');
  }
  return { value: doc.toJS() as unknown, doc, lines };
}

/** The first schema issue as "file:line: key.path: message (found X)". */
export function schemaError(issues: z.core.$ZodIssue[], parsed: ParsedYaml, file: string, code: ErrorCode, hint: string): TierdError {
  const issue = issues[0]!;
  const path = issue.path.map(String);
  const keyPath = path.length > 0 ? path.join('.') : '(top level)';
  let line: number | undefined;
  for (let n = path.length; n >= 0 && line === undefined; n--) {
    const node = parsed.doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) line = parsed.lines.linePos(node.range[0]).line;
  }
  const found = foundText(parsed.doc.getIn(path));
  let message = issue.message;
  if (issue.code === 'invalid_key' && issue.issues[0]) {
    message = issue.issues[0].message;
  } else if (issue.code === 'unrecognized_keys') {
    message = `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  } else if (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'too_small' || issue.code === 'too_big') {
    message = `${issue.message.replace(/^Invalid (input|option): /, '')}${found !== undefined ? `, found ${found}` : ''}`;
  }
  return new TierdError(code, `${file}${line !== undefined ? `:${line}` : ''}: ${keyPath}: ${message}`, hint);
}

function foundText(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (isNode(v)) return JSON.stringify(v.toJSON());
  return JSON.stringify(v);
}
