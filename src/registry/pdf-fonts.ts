import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The fonts of the certificate PDF, chosen per character. Noto Sans SC (an npm package) covers
 * all of GBK and sets most text; names and titles often hold rarer characters (CJK Extension A,
 * B and beyond: 䶮, 𠮷, 𡈽), which Hanazono Mincho covers (HanaMinA: the BMP with Extension A;
 * HanaMinB: the supplementary plane, Extensions B to F). Hanazono is Debian's `fonts-hanazono`
 * (50 MB, too large for an npm dependency of a service); without it the center still starts on
 * the development PKI with a warning, and refuses to start on a real PKI (see
 * {@link pdfFontProblem}). A character no font has is printed as its code point, never dropped.
 */

const require = createRequire(import.meta.url);

/** What fontkit (pdfkit's font engine) is asked here. */
interface FontkitFont {
  hasGlyphForCodePoint(codePoint: number): boolean;
}
const fontkit = require('fontkit') as { create(buffer: Buffer): FontkitFont };

export interface PdfFont {
  /** Name registered with pdfkit. */
  name: string;
  bytes: Buffer;
  has(codePoint: number): boolean;
}

/** Debian's package, and where Debian (and distributions that follow it) put its files. */
export const RARE_CHARACTER_FONT_PACKAGE = 'fonts-hanazono';
const HANAZONO_DIRS = ['/usr/share/fonts/truetype/hanazono', '/usr/share/fonts/hanazono', '/usr/share/fonts/TTF', '/usr/local/share/fonts'];
const HANAZONO_FILES = ['HanaMinA.ttf', 'HanaMinB.ttf'];

let loaded: PdfFont[] | undefined;

function fallbackFontFile(file: string, dirs: readonly string[] = HANAZONO_DIRS): string | undefined {
  return dirs.map((d) => `${d}/${file}`).find((p) => existsSync(p));
}

/** Primary font first, then the fallbacks found; read at the first PDF (~0.7 s, 63 MB), once per process. */
export function pdfFonts(): readonly PdfFont[] {
  if (loaded) return loaded;
  const fonts: PdfFont[] = [fontOf('cjk', readFileSync(require.resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf')))];
  for (const file of HANAZONO_FILES) {
    const path = fallbackFontFile(file);
    if (path) fonts.push(fontOf(file.replace(/\.ttf$/, ''), readFileSync(path)));
  }
  loaded = fonts;
  return fonts;
}

/** Why rare characters (CJK Extension B and beyond) would not render, or undefined when they would (the files are there). */
export function pdfFontProblem(dirs: readonly string[] = HANAZONO_DIRS): string | undefined {
  const missing = HANAZONO_FILES.filter((f) => !fallbackFontFile(f, dirs)).map((f) => f.replace(/\.ttf$/, ''));
  if (missing.length === 0) return undefined;
  return `the font for rare characters in certificate PDFs (${missing.join(', ')}: CJK Extensions A-F, e.g. 𠮷 𡈽 in names) is not installed: apt-get install ${RARE_CHARACTER_FONT_PACKAGE}`;
}

function fontOf(name: string, bytes: Buffer): PdfFont {
  const font = fontkit.create(bytes);
  const cache = new Map<number, boolean>();
  return {
    name,
    bytes,
    has(cp) {
      let v = cache.get(cp);
      if (v === undefined) cache.set(cp, (v = font.hasGlyphForCodePoint(cp)));
      return v;
    },
  };
}

export interface TextRun {
  font: string;
  text: string;
}

/**
 * `text` cut into runs of one font each: every character in the first font that has it, so the
 * primary font sets all it can and a name's rare character alone comes from the fallback;
 * whitespace stays in the run it is in. A character no font has becomes "〔U+XXXX〕".
 */
export function fontRuns(text: string, fonts: readonly PdfFont[] = pdfFonts()): TextRun[] {
  const primary = fonts[0]!.name;
  const runs: TextRun[] = [];
  const push = (font: string, piece: string) => {
    const last = runs[runs.length - 1];
    if (last?.font === font) last.text += piece;
    else runs.push({ font, text: piece });
  };
  for (const ch of text) {
    if (/\s/.test(ch)) {
      push(runs[runs.length - 1]?.font ?? primary, ch);
      continue;
    }
    const cp = ch.codePointAt(0)!;
    const font = fonts.find((f) => f.has(cp));
    if (font) push(font.name, ch);
    else push(primary, `〔U+${cp.toString(16).toUpperCase().padStart(4, '0')}〕`);
  }
  return runs.length > 0 ? runs : [{ font: primary, text }];
}
