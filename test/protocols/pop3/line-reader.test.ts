// Command line splitting: CRLF and bare LF, the length limit, and bounded
// buffering of an over-long line.

import { describe, expect, it } from 'vitest';
import { LineReader } from '../../../src/protocols/pop3/line-reader.js';

describe('LineReader', () => {
  it('splits CRLF and bare LF lines across chunks', () => {
    const reader = new LineReader(512);
    expect(reader.push(Buffer.from('US'))).toEqual([]);
    expect(reader.push(Buffer.from('ER a\r'))).toEqual([]);
    expect(reader.push(Buffer.from('\nSTAT\nNOOP\r\n'))).toEqual([
      { kind: 'line', text: 'USER a' }, { kind: 'line', text: 'STAT' }, { kind: 'line', text: 'NOOP' },
    ]);
  });

  it('allows exactly the limit including CRLF', () => {
    const reader = new LineReader(10);
    expect(reader.push(Buffer.from('12345678\r\n123456789\r\n'))).toEqual([{ kind: 'line', text: '12345678' }, { kind: 'too-long' }]);
  });

  it('reports an over-long line once and keeps at most the limit buffered', () => {
    const reader = new LineReader(16);
    const results = [];
    for (let i = 0; i < 1000; i++) {
      results.push(...reader.push(Buffer.alloc(100, 0x61)));
      expect(reader.bufferedLength).toBeLessThanOrEqual(16);
    }
    results.push(...reader.push(Buffer.from('tail\r\nQUIT\r\n')));
    expect(results).toEqual([{ kind: 'too-long' }, { kind: 'line', text: 'QUIT' }]);
  });
});
