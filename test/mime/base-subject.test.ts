// RFC 5256 §2.1's base subject, from the RFC's rules: leaders, trailers, blobs, [Fwd: ...].
import { describe, expect, it } from 'vitest';
import { baseSubject } from '../../src/mime/base-subject.js';

describe('base subject (RFC 5256 §2.1)', () => {
  it.each([
    ['hello', 'hello', false],
    ['Re: hello', 'hello', true],
    ['RE:  Re:re: hello', 'hello', true],
    ['Fwd: hello (fwd)', 'hello', true],
    ['Fw: hello', 'hello', true],
    ['[list] Re: hello', 'hello', true],
    ['Re[2]: hello', 'hello', true],
    ['[list] hello', 'hello', false],
    ['[only a blob]', '[only a blob]', false],
    ['[Fwd: Re: hello]', 'hello', true],
    ['  hello \t world  ', 'hello world', false],
    ['', '', false],
  ])('%j is %j', (subject, text, replyOrForward) => {
    expect(baseSubject(subject)).toEqual({ text, replyOrForward });
  });
});
