/**
 * A small reader of PDF objects (ISO 32000-1 §7.3, §7.5), enough to find the certificate a PDF
 * carries as an attachment and to add an incremental update (§7.5.6) to a PDF this project wrote.
 * It reads classic cross-reference tables, following /Prev through every incremental update
 * (the newest definition of an object wins), and falls back to scanning for `N G obj` when a
 * file has cross-reference streams or a broken table. Pure: no I/O, runs in the browser too.
 */

export class PdfFormatError extends Error {
  override readonly name = 'PdfFormatError';
}

export interface PdfRef {
  readonly ref: number;
  readonly gen: number;
}

/** A name is kept with its leading slash ("/Type"), so it never mixes up with a string. */
export type PdfName = `/${string}`;
export type PdfValue = number | boolean | null | PdfName | PdfRef | PdfString | PdfValue[] | PdfDict;

/** A string's bytes (literal or hex: the same thing to a reader). */
export class PdfString {
  constructor(readonly bytes: Uint8Array) {}
  /** The bytes read as PDFDocEncoding's ASCII subset, or UTF-16BE with a BOM (§7.9.2.2). */
  text(): string {
    const b = this.bytes;
    if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return new TextDecoder('utf-16be').decode(b.subarray(2));
    return String.fromCharCode(...b);
  }
}

export type PdfDict = Map<PdfName, PdfValue>;

export interface PdfStream {
  dict: PdfDict;
  /** The stream's bytes as stored (still encoded by its /Filter). */
  data: Uint8Array;
}

export interface PdfObject {
  value: PdfValue;
  stream?: PdfStream;
  /** Byte offset of `N G obj`. */
  offset: number;
}

export function isRef(v: PdfValue | undefined): v is PdfRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof PdfString);
}

export function isDict(v: PdfValue | undefined): v is PdfDict {
  return v instanceof Map;
}

const WHITE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIM = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);
const isRegular = (c: number | undefined) => c !== undefined && !WHITE.has(c) && !DELIM.has(c);

/** Parses one value at `pos` (after whitespace and comments); returns it and where it ends. */
export function parseValue(b: Uint8Array, start: number, depth = 0): [PdfValue, number] {
  if (depth > 64) throw new PdfFormatError('objects nested deeper than 64 levels');
  let pos = skipSpace(b, start);
  const c = b[pos];
  if (c === undefined) throw new PdfFormatError('unexpected end of file');
  if (c === 0x2f) {
    // Name (§7.3.5): #xx escapes.
    let end = pos + 1;
    while (isRegular(b[end])) end++;
    const raw = String.fromCharCode(...b.subarray(pos + 1, end));
    const name = raw.replace(/#([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return [`/${name}`, end];
  }
  if (c === 0x3c && b[pos + 1] === 0x3c) {
    const dict: PdfDict = new Map();
    pos += 2;
    for (;;) {
      pos = skipSpace(b, pos);
      if (b[pos] === 0x3e && b[pos + 1] === 0x3e) return [dict, pos + 2];
      const [key, afterKey] = parseValue(b, pos, depth + 1);
      if (typeof key !== 'string') throw new PdfFormatError(`a dictionary key is not a name at ${pos}`);
      const [value, afterValue] = parseValue(b, afterKey, depth + 1);
      dict.set(key, value);
      pos = afterValue;
    }
  }
  if (c === 0x3c) {
    const end = b.indexOf(0x3e, pos);
    if (end < 0) throw new PdfFormatError('unterminated hex string');
    const hex = String.fromCharCode(...b.subarray(pos + 1, end)).replace(/\s+/g, '');
    if (!/^[0-9A-Fa-f]*$/.test(hex)) throw new PdfFormatError(`bad hex string at ${pos}`);
    const even = hex.length % 2 === 0 ? hex : `${hex}0`;
    const bytes = new Uint8Array(even.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(even.slice(2 * i, 2 * i + 2), 16);
    return [new PdfString(bytes), end + 1];
  }
  if (c === 0x28) return parseLiteralString(b, pos);
  if (c === 0x5b) {
    const array: PdfValue[] = [];
    pos++;
    for (;;) {
      pos = skipSpace(b, pos);
      if (b[pos] === 0x5d) return [array, pos + 1];
      const [value, after] = parseValue(b, pos, depth + 1);
      array.push(value);
      pos = after;
    }
  }
  let end = pos;
  while (isRegular(b[end])) end++;
  const word = String.fromCharCode(...b.subarray(pos, end));
  if (word === 'true') return [true, end];
  if (word === 'false') return [false, end];
  if (word === 'null') return [null, end];
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(word)) throw new PdfFormatError(`unexpected "${word.slice(0, 20)}" at ${pos}`);
  // An indirect reference is two unsigned integers and R (§7.3.10).
  if (/^\d+$/.test(word)) {
    const m = /^\s+(\d+)\s+R(?![^\s\x00()<>[\]{}/%])/.exec(String.fromCharCode(...b.subarray(end, end + 24)));
    if (m) return [{ ref: Number(word), gen: Number(m[1]) }, end + m[0].length];
  }
  return [Number(word), end];
}

function parseLiteralString(b: Uint8Array, start: number): [PdfString, number] {
  const out: number[] = [];
  let depth = 0;
  let pos = start + 1;
  for (;;) {
    const c = b[pos++];
    if (c === undefined) throw new PdfFormatError('unterminated string');
    if (c === 0x5c) {
      const e = b[pos++];
      if (e === undefined) throw new PdfFormatError('unterminated string');
      const simple: Record<number, number> = { 0x6e: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x66: 12, 0x28: 0x28, 0x29: 0x29, 0x5c: 0x5c };
      if (simple[e] !== undefined) out.push(simple[e]);
      else if (e >= 0x30 && e <= 0x37) {
        let v = e - 0x30;
        for (let i = 0; i < 2 && b[pos] !== undefined && b[pos]! >= 0x30 && b[pos]! <= 0x37; i++) v = v * 8 + (b[pos++]! - 0x30);
        out.push(v & 0xff);
      } else if (e === 0x0d) {
        if (b[pos] === 0x0a) pos++;
      } else if (e !== 0x0a) out.push(e);
      continue;
    }
    if (c === 0x28) depth++;
    if (c === 0x29 && depth-- === 0) return [new PdfString(Uint8Array.from(out)), pos];
    out.push(c);
  }
}

function skipSpace(b: Uint8Array, start: number): number {
  let pos = start;
  for (;;) {
    while (WHITE.has(b[pos] as number)) pos++;
    if (b[pos] !== 0x25) return pos;
    while (pos < b.length && b[pos] !== 0x0a && b[pos] !== 0x0d) pos++;
  }
}

function ascii(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i += 8192) s += String.fromCharCode(...b.subarray(i, Math.min(end, i + 8192)));
  return s;
}

/** Finds objects through the cross-reference tables (newest first), else by scanning. */
export class PdfReader {
  /** Object number → byte offset of its newest definition. */
  readonly offsets = new Map<number, number>();
  /** The newest trailer dictionary. */
  readonly trailer: PdfDict;
  /** Byte offset of the newest cross-reference section (what an update's /Prev names). */
  readonly startXref: number;

  constructor(readonly bytes: Uint8Array) {
    if (ascii(bytes, 0, 5) !== '%PDF-') throw new PdfFormatError('not a PDF (no %PDF- header)');
    const tail = ascii(bytes, Math.max(0, bytes.length - 1024), bytes.length);
    const m = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail);
    this.startXref = m ? Number(m[1]) : -1;
    const trailer = m ? this.readXrefTables(this.startXref) : undefined;
    this.trailer = trailer ?? this.scan();
  }

  /** Classic tables (§7.5.4) through /Prev; undefined when the file has none we can read. */
  private readXrefTables(first: number): PdfDict | undefined {
    let newest: PdfDict | undefined;
    const seen = new Set<number>();
    let at = first;
    while (at >= 0 && !seen.has(at) && seen.size < 1000) {
      seen.add(at);
      if (ascii(this.bytes, at, at + 4) !== 'xref') return undefined;
      let pos = at + 4;
      const text = ascii(this.bytes, pos, this.bytes.length);
      let rel = 0;
      const header = /^\s*(\d+)\s+(\d+)[ \t]*\r?\n?/y;
      for (;;) {
        header.lastIndex = rel;
        const h = header.exec(text);
        if (!h) break;
        const firstNum = Number(h[1]);
        const count = Number(h[2]);
        rel = header.lastIndex;
        const entry = /\s*(\d{10}) (\d{5}) ([nf])[ \t\r\n]{0,2}/y;
        for (let i = 0; i < count; i++) {
          entry.lastIndex = rel;
          const e = entry.exec(text);
          if (!e) return undefined;
          rel = entry.lastIndex;
          const num = firstNum + i;
          if (e[3] === 'n' && !this.offsets.has(num)) this.offsets.set(num, Number(e[1]));
        }
      }
      pos += rel;
      const t = /^\s*trailer\s*/.exec(text.slice(rel, rel + 64));
      if (!t) return undefined;
      const [dict] = parseValue(this.bytes, pos + t[0].length);
      if (!isDict(dict)) return undefined;
      newest ??= dict;
      const prev = dict.get('/Prev');
      at = typeof prev === 'number' ? prev : -1;
    }
    return newest;
  }

  /** Every `N G obj` at a line start, the last one of each number winning; the last trailer. */
  private scan(): PdfDict {
    this.offsets.clear();
    const text = ascii(this.bytes, 0, this.bytes.length);
    for (const m of text.matchAll(/(?:^|[\r\n])(\d+)\s+(\d+)\s+obj\b/g)) {
      this.offsets.set(Number(m[1]), m.index + m[0].length - m[0].trimStart().length);
    }
    const at = text.lastIndexOf('trailer');
    if (at >= 0) {
      const [dict] = parseValue(this.bytes, at + 7);
      if (isDict(dict)) return dict;
    }
    // A file with only cross-reference streams: the catalog is the last /Type /Catalog object.
    for (const [num, offset] of [...this.offsets].reverse()) {
      const { value } = this.objectAt(num, offset);
      if (isDict(value) && value.get('/Type') === '/Catalog') return new Map([['/Root', { ref: num, gen: 0 }]]);
    }
    throw new PdfFormatError('no trailer and no catalog');
  }

  object(num: number): PdfObject {
    const offset = this.offsets.get(num);
    if (offset === undefined) throw new PdfFormatError(`object ${num} is not in the file`);
    return this.objectAt(num, offset);
  }

  private objectAt(num: number, offset: number): PdfObject {
    const head = /^(\d+)\s+(\d+)\s+obj/.exec(ascii(this.bytes, offset, offset + 32));
    if (!head || Number(head[1]) !== num) throw new PdfFormatError(`object ${num} is not where the cross-reference table says`);
    const [value, after] = parseValue(this.bytes, offset + head[0].length);
    const pos = skipSpace(this.bytes, after);
    if (!isDict(value) || ascii(this.bytes, pos, pos + 6) !== 'stream') return { value, offset };
    // The data starts after the EOL that follows "stream" (§7.3.8.1).
    let start = pos + 6;
    if (this.bytes[start] === 0x0d) start++;
    if (this.bytes[start] === 0x0a) start++;
    const length = this.resolve(value.get('/Length'));
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || start + length > this.bytes.length) {
      throw new PdfFormatError(`object ${num}: bad stream /Length`);
    }
    return { value, offset, stream: { dict: value, data: this.bytes.subarray(start, start + length) } };
  }

  /** A value with a reference followed to its object (one level; references do not chain in practice). */
  resolve(v: PdfValue | undefined): PdfValue | undefined {
    return isRef(v) ? this.object(v.ref).value : v;
  }

  /** The document catalog (§7.7.2). */
  catalog(): { ref: PdfRef; dict: PdfDict } {
    const root = this.trailer.get('/Root');
    if (!isRef(root)) throw new PdfFormatError('the trailer names no /Root');
    const dict = this.resolve(root);
    if (!isDict(dict)) throw new PdfFormatError('the /Root is not a dictionary');
    return { ref: root, dict };
  }

  /** The first page's reference and dictionary (§7.7.3). */
  firstPage(): { ref: PdfRef; dict: PdfDict } {
    let node = this.catalog().dict.get('/Pages');
    for (let depth = 0; depth < 32 && isRef(node); depth++) {
      const dict = this.resolve(node);
      if (!isDict(dict)) break;
      if (dict.get('/Type') === '/Page') return { ref: node, dict };
      const kids = this.resolve(dict.get('/Kids'));
      node = Array.isArray(kids) ? kids[0] : undefined;
    }
    throw new PdfFormatError('the document has no page');
  }
}

/** Writes a value in PDF syntax (strings as hex, so any bytes survive). */
export function serializeValue(v: PdfValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    return v.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
  }
  if (typeof v === 'string') return `/${v.slice(1).replace(/[^!-~]|[#()<>[\]{}/%]/g, (ch) => `#${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)}`;
  if (v instanceof PdfString) return `<${[...v.bytes].map((x) => x.toString(16).padStart(2, '0')).join('')}>`;
  if (Array.isArray(v)) return `[${v.map(serializeValue).join(' ')}]`;
  if (v instanceof Map) return `<<${[...v].map(([k, x]) => `${serializeValue(k)} ${serializeValue(x)}`).join(' ')}>>`;
  return `${v.ref} ${v.gen} R`;
}
