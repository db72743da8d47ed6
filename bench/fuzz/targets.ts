// The in-memory fuzz targets: each pairs an input arbitrary with a function that
// feeds one input to a parser the way the server does and throws only when the
// parser misbehaves (a crash, or an output that breaks the parser's own limits).

import fc from 'fast-check';
import { ImapParser } from '../../src/protocols/imap/parser.js';
import { CommandFramer, type FramerLimits } from '../../src/protocols/imap/framer.js';
import { renderBodyStructure, renderEnvelope } from '../../src/protocols/imap/render-structure.js';
import { LineReader } from '../../src/protocols/pop3/line-reader.js';
import { parseCommand } from '../../src/protocols/pop3/commands.js';
import { analyzeMessage } from '../../src/mime/analyze.js';
import { bodyTexts } from '../../src/mime/search-text.js';
import { parseAddressList } from '../../src/mime/addresses.js';
import type { MimePart } from '../../src/mime/types.js';
import { chunksOf, hostileInput, lines, splitPoints } from './mutations.js';
import { IMAP_SEEDS, MESSAGE_SEEDS, ADDRESS_SEEDS, POP3_SEEDS } from './seeds.js';

export interface StreamInput {
  bytes: Buffer;
  /** Where the bytes are cut into chunks, as a socket might deliver them. */
  splits: number[];
  /** Bits deciding, per continuation request, whether the session refuses the literal. */
  choices: number;
}

export interface SyncTarget<T> {
  name: string;
  input: fc.Arbitrary<T>;
  run(input: T): void;
  /** Printable form of an input, for crash reports. */
  show(input: T): string;
}

/** A parser broke a promise it makes (as opposed to throwing by itself). */
export class InvariantBroken extends Error {
  override name = 'InvariantBroken';
}

function streamInput(seeds: fc.Arbitrary<Buffer>, maxCommands: number): fc.Arbitrary<StreamInput> {
  return fc.record({
    bytes: fc.array(hostileInput(seeds), { minLength: 1, maxLength: maxCommands }).map((parts) => Buffer.concat(parts)),
    splits: splitPoints,
    choices: fc.nat(),
  });
}

function showStream(input: StreamInput): string {
  return JSON.stringify({ bytes: input.bytes.toString('base64'), splits: input.splits, choices: input.choices });
}

/** More events than input bytes means the parser is spinning on the same input. */
function eventBudget(input: StreamInput): number {
  return input.bytes.length * 2 + 16;
}

const imapSeeds = lines(...IMAP_SEEDS);

/** IMAP: ImapParser fed chunk by chunk, pulled until it needs more, as ImapSession does. */
const imapParser: SyncTarget<StreamInput> = {
  name: 'imap-parser',
  input: streamInput(imapSeeds, 4),
  show: showStream,
  run(input) {
    const parser = new ImapParser({ utf8Accept: (input.choices & 1) === 1 });
    let budget = eventBudget(input);
    let decision = input.choices >>> 1;
    for (const chunk of chunksOf(input.bytes, input.splits)) {
      parser.push(chunk);
      for (let event = parser.next(); event !== undefined; event = parser.next()) {
        if (--budget < 0) throw new InvariantBroken('parser keeps returning events without consuming input');
        if (event.type === 'continuation' && (decision & 1) === 1) parser.abortCommand();
        if (event.type === 'command' && event.command.name === 'IDLE') parser.expectRawLine();
        decision = (decision >>> 1) | ((decision & 1) << 30);
      }
    }
  },
};

const SMALL_FRAMER_LIMITS: FramerLimits = { maxLineLength: 200, maxLiteralSize: 64, maxAppendSize: 1024 };

/** IMAP framer alone, with small limits so the skip paths run often. */
const imapFramer: SyncTarget<StreamInput> = {
  name: 'imap-framer',
  input: streamInput(imapSeeds, 6),
  show: showStream,
  run(input) {
    const framer = new CommandFramer(SMALL_FRAMER_LIMITS);
    let budget = eventBudget(input);
    let decision = input.choices;
    for (const chunk of chunksOf(input.bytes, input.splits)) {
      framer.push(chunk);
      for (let out = framer.next((decision & 2) === 2); out !== undefined; out = framer.next((decision & 2) === 2)) {
        if (--budget < 0) throw new InvariantBroken('framer keeps returning outputs without consuming input');
        if (out.type === 'continuation' && (decision & 1) === 1) framer.abortCommand();
        if (out.type === 'frame') checkFrameLimits(out.frame.texts, out.frame.literals);
        decision = (decision >>> 2) | ((decision & 3) << 29);
      }
    }
  },
};

function checkFrameLimits(texts: Buffer[], literals: Buffer[]): void {
  const textBytes = texts.reduce((sum, text) => sum + text.length, 0);
  const literalBytes = literals.reduce((sum, literal) => sum + literal.length, 0);
  if (textBytes > SMALL_FRAMER_LIMITS.maxLineLength) throw new InvariantBroken(`frame text ${textBytes} bytes over the limit`);
  if (literalBytes > SMALL_FRAMER_LIMITS.maxAppendSize) throw new InvariantBroken(`frame literals ${literalBytes} bytes over the limit`);
  if (texts.length !== literals.length + 1) throw new InvariantBroken('frame texts and literals do not alternate');
}

const POP3_MAX_LINE = 255;

/** POP3: the LineReader's lines (random chunking) parsed by parseCommand, as a session does. */
const pop3Commands: SyncTarget<StreamInput> = {
  name: 'pop3-commands',
  input: streamInput(lines(...POP3_SEEDS), 6),
  show: showStream,
  run(input) {
    const reader = new LineReader(POP3_MAX_LINE);
    for (const chunk of chunksOf(input.bytes, input.splits)) {
      for (const line of reader.push(chunk)) {
        if (reader.bufferedLength > POP3_MAX_LINE) throw new InvariantBroken('line reader holds more than its limit');
        if (line.kind === 'too-long') continue;
        if (Buffer.byteLength(line.text, 'utf8') > POP3_MAX_LINE * 3) throw new InvariantBroken('line over the limit');
        const result = parseCommand(line.text);
        if (!result.ok && typeof result.error !== 'string') throw new InvariantBroken('parse error without text');
      }
    }
  },
};

/** MIME analyser: analysis, then what IMAP and SEARCH do with its result. */
const mimeAnalyzer: SyncTarget<Buffer> = {
  name: 'mime-analyzer',
  input: fc.oneof(
    { weight: 4, arbitrary: hostileInputOfMessages() },
    { weight: 1, arbitrary: fc.array(hostileInputOfMessages(), { minLength: 2, maxLength: 3 }).map((parts) => Buffer.concat(parts)) },
  ),
  show: (raw) => raw.toString('base64'),
  run(raw) {
    const structure = analyzeMessage(raw);
    checkPartOffsets(structure.root, raw.length);
    renderEnvelope(structure);
    renderBodyStructure(structure, true);
    bodyTexts(raw, structure);
  },
};

function hostileInputOfMessages(): fc.Arbitrary<Buffer> {
  return hostileInput(fc.constantFrom(...MESSAGE_SEEDS.map((text) => Buffer.from(text, 'latin1'))), 2048);
}

function checkPartOffsets(part: MimePart, size: number): void {
  const ordered = part.headerStart <= part.bodyStart && part.bodyStart <= part.bodyEnd;
  if (!ordered || part.headerStart < 0 || part.bodyEnd > size) {
    throw new InvariantBroken(`part ${part.path} offsets ${part.headerStart}/${part.bodyStart}/${part.bodyEnd} outside a ${size}-byte message`);
  }
  for (const child of part.children) checkPartOffsets(child, size);
}

/** Address lists as header values arrive: latin1 byte strings, often broken. */
const addressParser: SyncTarget<string> = {
  name: 'address-parser',
  input: hostileInput(fc.constantFrom(...ADDRESS_SEEDS.map((text) => Buffer.from(text, 'latin1'))), 256)
    .map((bytes) => bytes.toString('latin1')),
  show: (value) => JSON.stringify(value),
  run(value) {
    const addresses = parseAddressList(value);
    if (addresses !== null && addresses.length === 0) throw new InvariantBroken('empty list instead of null');
  },
};

export const SYNC_TARGETS: ReadonlyArray<SyncTarget<never>> = [
  imapParser, imapFramer, pop3Commands, mimeAnalyzer, addressParser,
] as unknown as ReadonlyArray<SyncTarget<never>>;
