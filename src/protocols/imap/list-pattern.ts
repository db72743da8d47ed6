// LIST / LSUB mailbox patterns (RFC 3501 §6.3.8): `*` matches anything, `%` anything but
// the hierarchy delimiter. Matched in O(name × pattern) by a table of reachable positions,
// never by a backtracking regular expression (a pattern of many wildcards froze the process).

export const HIERARCHY_DELIMITER = '/';

type PatternToken = { kind: 'text'; text: string } | { kind: 'star' } | { kind: 'percent' };

export interface MailboxPattern {
  tokens: PatternToken[];
  /** Characters that must be matched literally: a name shorter than this never matches. */
  literalLength: number;
}

/** Splits a pattern into literal runs and wildcards; `**`, `%*` and `*%` collapse to `*`, `%%` to `%`. */
export function compilePattern(pattern: string): MailboxPattern {
  const tokens: PatternToken[] = [];
  let literalLength = 0;
  for (const char of pattern) {
    const last = tokens[tokens.length - 1];
    if (char === '*' || char === '%') {
      addWildcard(tokens, char === '*' ? 'star' : 'percent');
      continue;
    }
    literalLength++;
    if (last?.kind === 'text') last.text += char;
    else tokens.push({ kind: 'text', text: char });
  }
  return { tokens, literalLength };
}

function addWildcard(tokens: PatternToken[], kind: 'star' | 'percent'): void {
  const last = tokens[tokens.length - 1];
  if (last === undefined || last.kind === 'text') {
    tokens.push({ kind });
    return;
  }
  if (kind === 'star') last.kind = 'star';
}

/**
 * True when `name` matches the whole pattern. `reachable[i]` says the tokens so far can
 * consume exactly the first i characters; each token moves the table forward once.
 */
export function matchesPattern(pattern: MailboxPattern, name: string): boolean {
  if (name.length < pattern.literalLength) return false;
  let reachable: Uint8Array = new Uint8Array(name.length + 1);
  reachable[0] = 1;
  for (const token of pattern.tokens) {
    reachable = advance(reachable, token, name);
    if (!reachable.includes(1)) return false;
  }
  return reachable[name.length] === 1;
}

function advance(reachable: Uint8Array, token: PatternToken, name: string): Uint8Array {
  const next = new Uint8Array(reachable.length);
  switch (token.kind) {
    case 'text':
      for (let i = 0; i + token.text.length < reachable.length; i++) {
        if (reachable[i] === 1 && name.startsWith(token.text, i)) next[i + token.text.length] = 1;
      }
      return next;
    case 'star':
      for (let i = 0, seen = false; i < reachable.length; i++) {
        seen ||= reachable[i] === 1;
        if (seen) next[i] = 1;
      }
      return next;
    case 'percent':
      for (let i = 0, open = false; i < reachable.length; i++) {
        // Extending a run by one character needs that character not to be the delimiter.
        if (i > 0 && name[i - 1] === HIERARCHY_DELIMITER) open = false;
        open ||= reachable[i] === 1;
        if (open) next[i] = 1;
      }
      return next;
  }
}
