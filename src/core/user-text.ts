/**
 * The one rule for text a user sends: titles, file names, metadata keys and values, account
 * names, categories, reasons. Such text is written into records, certificates and PDFs that a
 * court reads, so it must show what it says:
 *
 * - no C0 controls (U+0000-001F), DEL (U+007F) or C1 controls (U+0080-009F): NUL ends strings
 *   in C tools, BEL rings, U+0085 is a line break to some readers and nothing to others. Long
 *   text (metadata values) may hold TAB and LF, the only line break it may hold;
 * - no bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069): U+202E makes
 *   `report<U+202E>fdp.exe` read as `reportexe.pdf` (Unicode TR #36 §2.1, CVE-2021-42574);
 * - no line or paragraph separators (U+2028, U+2029): line breaks are LF or nothing;
 * - no unpaired surrogates: UTF-8 and RFC 8785 cannot carry them;
 * - no noncharacters (U+FDD0-FDEF and the last two code points of every plane, U+FFFE, U+FFFF,
 *   U+1FFFE …): Unicode reserves them for a program's internal use, never for interchange.
 *
 * Pure (no node:*): the server, the CLI and the browser apply the same rule.
 */

export interface UserTextOptions {
  /** Most characters (UTF-16 code units, as JavaScript counts them). */
  maxLength: number;
  /** Long text (metadata values): TAB and LF are allowed. */
  multiline?: boolean;
  /** The empty string is allowed (metadata values); otherwise at least one character. */
  allowEmpty?: boolean;
}

/** The first refused character of `text`, or undefined when there is none. */
export function findRefusedCharacter(text: string, multiline = false): { index: number; codePoint: number; what: string } | undefined {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // Almost all text is printable ASCII or CJK: one comparison each.
    if (unit >= 0x20 && unit < 0x7f) continue;
    if (unit >= 0xa0 && unit < 0x2028) continue;
    let codePoint = unit;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return { index: i, codePoint: unit, what: 'an unpaired surrogate' };
      codePoint = 0x10000 + ((unit - 0xd800) << 10) + (next - 0xdc00);
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return { index: i, codePoint: unit, what: 'an unpaired surrogate' };
    }
    const what = refusedKind(codePoint, multiline);
    if (what) return { index: i, codePoint, what };
    if (codePoint > 0xffff) i++;
  }
  return undefined;
}

function refusedKind(c: number, multiline: boolean): string | undefined {
  if (c === 0x09 || c === 0x0a) return multiline ? undefined : 'a tab or line break (not allowed in this field)';
  if (c < 0x20) return 'a control character';
  if (c === 0x7f) return 'a control character (DEL)';
  if (c >= 0x80 && c <= 0x9f) return 'a C1 control character';
  if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return 'a bidirectional control character (it makes text read other than it is written)';
  if (c === 0x2028 || c === 0x2029) return 'a line or paragraph separator';
  if ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) === 0xfffe) return 'a Unicode noncharacter';
  return undefined;
}

/** U+202E, the way Unicode writes a code point. */
export function formatCodePoint(codePoint: number): string {
  return 'U+' + codePoint.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * Why `value` is not acceptable text for the field `field`, as a sentence naming the field; or
 * undefined when it is.
 */
export function userTextProblem(value: unknown, field: string, options: UserTextOptions): string | undefined {
  if (typeof value !== 'string') return `${field} must be text`;
  if (value.length === 0 && !options.allowEmpty) return `${field} must not be empty`;
  if (value.length > options.maxLength) return `${field} must be at most ${options.maxLength} characters (it has ${value.length})`;
  const refused = findRefusedCharacter(value, options.multiline);
  if (refused) {
    return `${field} contains ${formatCodePoint(refused.codePoint)} at position ${refused.index + 1}, ${refused.what}; send the text without it`;
  }
  return undefined;
}
