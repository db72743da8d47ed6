// LIST patterns (RFC 3501 §6.3.8): the RFC's examples, the delimiter rule of `%`, and a
// pattern of many wildcards against a long name answered at once (it used to backtrack).
import { describe, expect, it } from 'vitest';
import { compilePattern, matchesPattern } from '../../../src/protocols/imap/list-pattern.js';
import { patternMatcher } from '../../../src/imap/commands/list.js';

function matches(pattern: string, name: string): boolean {
  return matchesPattern(compilePattern(pattern), name);
}

describe('LIST patterns', () => {
  it.each([
    // RFC 3501 §6.3.8: "foo*" matches foo, foo/bar and foobar; "foo%" matches foo and foobar, not foo/bar.
    ['foo*', 'foo', true],
    ['foo*', 'foo/bar', true],
    ['foo*', 'foobar', true],
    ['foo%', 'foo', true],
    ['foo%', 'foobar', true],
    ['foo%', 'foo/bar', false],
    // RFC 3501 LIST examples: `%` lists the top level, `*` everything.
    ['%', 'INBOX', true],
    ['%', 'Archive/2024', false],
    ['*', 'Archive/2024', true],
    ['Archive/%', 'Archive/2024', true],
    ['Archive/%', 'Archive/2024/Q1', false],
    ['Archive/*', 'Archive/2024/Q1', true],
    ['%/%', 'Archive/2024', true],
    ['', '', true],
    ['', 'INBOX', false],
    ['INBOX', 'INBOX', true],
    ['INBOX', 'inbox', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbYd', false],
    ['a%c', 'ab/c', false],
    ['%*%', 'x/y', true],
    ['%%', 'x/y', false],
    ['*%', 'x/y', true],
    ['a.b', 'aXb', false],
    ['(a)+', '(a)+', true],
  ])('%s against %s: %s', (pattern, name, expected) => {
    expect(matches(pattern, name)).toBe(expected);
  });

  it('matches 20 wildcards against a 200-character name at once', () => {
    const name = `${'a/'.repeat(99)}b`;
    const started = performance.now();
    expect(matches('*a%'.repeat(10) + 'c', name)).toBe(false);
    expect(matches('%a'.repeat(20) + 'x', name)).toBe(false);
    expect(matches('*a*'.repeat(10) + 'b', name)).toBe(true);
    // A generous bound: the backtracking regex took seconds on fewer wildcards.
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('LIST reference and INBOX', () => {
  it('joins the reference with the delimiter and matches INBOX in any case', () => {
    expect(patternMatcher('Archive', '%')('Archive/2024')).toBe(true);
    expect(patternMatcher('Archive/', '%')('Archive/2024')).toBe(true);
    expect(patternMatcher('', 'inbox')('INBOX')).toBe(true);
    expect(patternMatcher('', 'InBo%')('INBOX')).toBe(true);
    expect(patternMatcher('', 'archive')('Archive')).toBe(false);
  });
});
