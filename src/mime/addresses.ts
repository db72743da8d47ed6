// Address-list parsing for ENVELOPE (RFC 5322 §3.4 with obsolete forms),
// lenient like Dovecot: broken input still yields addresses, with
// MISSING_MAILBOX / MISSING_DOMAIN placeholders where a part is absent.

import { Rfc822Reader, type ReadStatus } from './rfc822-reader.js';
import type { EnvelopeAddress } from './types.js';

class AddressListParser {
  readonly out: EnvelopeAddress[] = [];
  private addr: EnvelopeAddress = emptyAddress();
  private readonly reader: Rfc822Reader;

  constructor(value: string) {
    this.reader = new Rfc822Reader(value, true);
  }

  parse(): EnvelopeAddress[] | null {
    if (this.reader.skipLwsp() <= 0) return null;
    this.parseList();
    return this.out.length > 0 ? this.out : null;
  }

  private push(): void {
    this.out.push(this.addr);
    this.addr = emptyAddress();
  }

  private pushFixed(): void {
    if (this.addr.mailbox === null) this.addr.mailbox = 'MISSING_MAILBOX';
    if (this.addr.domain === null) this.addr.domain = 'MISSING_DOMAIN';
    this.push();
  }

  private parseList(): void {
    const r = this.reader;
    for (;;) {
      if (this.parseAddress() === 0) return;
      if (r.peek() !== 0x2c) return;
      r.pos++;
      const st = r.skipLwsp();
      if (st <= 0) {
        if (st < 0) this.pushFixed();
        return;
      }
    }
  }

  private parseAddress(): ReadStatus {
    const start = this.reader.pos;
    const st = this.parseGroup();
    if (st >= 0) return st;
    this.reader.pos = start;
    return this.parseMailbox();
  }

  private parseGroup(): ReadStatus {
    const r = this.reader;
    const phrase: string[] = [];
    if (r.readPhrase(phrase) <= 0 || r.peek() !== 0x3a) return -1;
    r.pos++;
    let st = r.skipLwsp();
    this.addr.mailbox = phrase.join('');
    this.push();
    if (st > 0 && r.peek() !== 0x3b) {
      for (;;) {
        if (this.parseMailbox() <= 0) {
          st = -1;
          break;
        }
        if (r.peek() !== 0x2c) break;
        r.pos++;
        if (r.skipLwsp() <= 0) {
          st = -1;
          break;
        }
      }
    }
    if (st >= 0) {
      if (r.peek() !== 0x3b) st = -1;
      else {
        r.pos++;
        st = r.skipLwsp();
      }
    }
    this.push();
    return st === 0 ? 0 : 1;
  }

  private parseMailbox(): ReadStatus {
    const start = this.reader.pos;
    let st = this.parseNameAddr();
    if (st < 0) {
      this.reader.pos = start;
      st = this.parseAddrSpec();
    }
    this.pushFixed();
    return st;
  }

  private parseNameAddr(): ReadStatus {
    const r = this.reader;
    const phrase: string[] = [];
    if (r.readPhrase(phrase) <= 0 || r.peek() !== 0x3c) return -1;
    const name = phrase.join('');
    this.addr.name = name === '' ? null : name;
    if (this.parseAngleAddr() < 0) this.addr.domain = 'SYNTAX_ERROR';
    return r.atEnd ? 0 : 1;
  }

  private parseAngleAddr(): ReadStatus {
    const r = this.reader;
    r.pos++;
    let st = r.skipLwsp();
    if (st <= 0) return st;
    if (r.peek() === 0x40) {
      if (this.parseRoute() <= 0 || r.peek() !== 0x3a) {
        this.addr.route = 'INVALID_ROUTE';
        return -1;
      }
      r.pos++;
      st = r.skipLwsp();
      if (st <= 0) return st;
    }
    st = this.parseLocalPart();
    if (st <= 0) return st;
    if (r.peek() === 0x40) {
      st = this.parseDomain();
      if (st <= 0) return st;
    }
    if (r.peek() !== 0x3e) return -1;
    r.pos++;
    return r.skipLwsp();
  }

  private parseRoute(): ReadStatus {
    const r = this.reader;
    let route = '';
    for (;;) {
      if (r.atEnd) return 0;
      if (r.peek() !== 0x40) break;
      if (route.length > 0) route += ',';
      const domain: string[] = [];
      const st = r.readDomain(domain);
      route += '@' + domain.join('');
      if (st <= 0) return st;
      while (r.skipLwsp() > 0 && r.peek() === 0x2c) r.pos++;
    }
    this.addr.route = route;
    return 1;
  }

  private parseAddrSpec(): ReadStatus {
    const r = this.reader;
    if (r.lastComment !== null) r.lastComment = '';
    let st = this.parseLocalPart();
    if (st !== 0 && r.peek() === 0x40) {
      const st2 = this.parseDomain();
      if (st2 <= 0) st = st2;
    }
    if (r.lastComment) this.addr.name = r.lastComment;
    return st;
  }

  private parseLocalPart(): ReadStatus {
    const r = this.reader;
    if (r.atEnd) return -1;
    const out: string[] = [];
    const st = r.peek() === 0x22 ? r.readQuotedString(out) : r.readDotAtom(out);
    if (st < 0) return -1;
    this.addr.mailbox = out.join('');
    return st;
  }

  private parseDomain(): ReadStatus {
    const out: string[] = [];
    const st = this.reader.readDomain(out);
    if (st < 0) return -1;
    this.addr.domain = out.join('');
    return st;
  }
}

function emptyAddress(): EnvelopeAddress {
  return { name: null, route: null, mailbox: null, domain: null };
}

/** Parse an unfolded address header value; null when it holds no address. */
export function parseAddressList(value: string): EnvelopeAddress[] | null {
  return new AddressListParser(value).parse();
}
