// Header fields a plugin adds are checked before they touch a message: no line break
// outside folding (no injected fields or body), a printable name without a colon.
import { describe, expect, it } from 'vitest';
import { headerFieldProblem, headerFieldsOf } from '../../src/plugins/contract/header-fields.js';

describe('plugin header fields', () => {
  it.each([
    [['X-Ok', 'value'], null],
    [['DKIM-Signature', 'v=1; a=rsa-sha256;\r\n\tb=abc'], null],
    [['X-Bad', 'value\r\nBcc: victim@example.test'], 'bad value for X-Bad'],
    [['X-Bad', 'value\nmore'], 'bad value for X-Bad'],
    [['X-Bad', 'value\r\n\r\nbody'], 'bad value for X-Bad'],
    [['X Bad', 'v'], 'bad field name "X Bad"'],
    [['X:Bad', 'v'], 'bad field name "X:Bad"'],
    [['', 'v'], 'bad field name ""'],
    ['X-Ok: value', 'not a [name, value] pair'],
    [['X-Ok', 42], 'bad value for X-Ok'],
  ])('%j → %s', (field, problem) => {
    expect(headerFieldProblem(field)).toBe(problem);
  });

  it('reads the header section as [name, value] pairs, unfolded, and stops at the blank line', () => {
    const fields = headerFieldsOf(Buffer.from('Subject: one\r\n two\r\nFrom: a@b.test\r\n\r\nX-Not: header\r\n'));
    expect(fields).toEqual([['Subject', 'one two'], ['From', 'a@b.test']]);
  });
});
