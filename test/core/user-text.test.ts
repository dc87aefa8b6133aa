import { describe, expect, it } from 'vitest';
import { findRefusedCharacter, userTextProblem } from '../../src/core/user-text.js';

// The one text rule (issue 17, item 8), as the server, the CLI and the browser apply it.
describe('the text rule', () => {
  it.each([
    ['NUL', '\u0000'], ['BEL', '\u0007'], ['ESC', '\u001b'], ['CR', '\r'], ['DEL', '\u007f'],
    ['NEL (C1)', '\u0085'], ['APC (C1)', '\u009f'],
    ['LRE', '\u202a'], ['RLO', '\u202e'], ['LRI', '\u2066'], ['PDI', '\u2069'],
    ['LINE SEPARATOR', '\u2028'], ['PARAGRAPH SEPARATOR', '\u2029'],
    ['a lone high surrogate', '\ud800'], ['a lone low surrogate', '\udc00'], ['a reversed pair', '\udc00\ud800'],
    ['U+FDD0', '\ufdd0'], ['U+FFFE', '\ufffe'], ['U+FFFF', '\uffff'], ['U+1FFFE', '\u{1fffe}'], ['U+10FFFF', '\u{10ffff}'],
  ])('refuses %s anywhere in a field, even in long text', (_, c) => {
    for (const text of [c, `婚姻登记${c}表.pdf`, `abc${c}`]) {
      for (const multiline of [false, true]) expect(findRefusedCharacter(text, multiline)).toBeDefined();
    }
  });

  it('allows TAB and LF in long text only', () => {
    expect(findRefusedCharacter('第一行\n第二行\t附注', true)).toBeUndefined();
    expect(findRefusedCharacter('a\tb', false)).toMatchObject({ index: 1, codePoint: 9 });
    expect(findRefusedCharacter('a\nb', false)).toMatchObject({ index: 1, codePoint: 10 });
  });

  it('takes the text of real records: CJK (Extension B too), emoji with joiners, marks, Arabic and Hebrew', () => {
    for (const text of ['婚姻登记表(2024).pdf', '𠮷野家 𡈽', '👩‍👩‍👧 family.jpg', 'Ångström café', 'مرحبا', 'שלום', 'x\u200ey', '\u00a0', '\ufeff', '\u{10fffd}']) {
      expect(findRefusedCharacter(text, false)).toBeUndefined();
    }
  });

  it('names the field, the code point and where it is', () => {
    expect(userTextProblem('report\u202efdp.exe', 'fileName', { maxLength: 1024 })).toBe(
      'fileName contains U+202E at position 7, a bidirectional control character (it makes text read other than it is written); send the text without it',
    );
    expect(userTextProblem('𠮷\u0000', 'title', { maxLength: 1024 })).toMatch(/^title contains U\+0000 at position 3, a control character;/);
    expect(userTextProblem('', 'title', { maxLength: 10 })).toBe('title must not be empty');
    expect(userTextProblem('', 'metadata.note', { maxLength: 10, allowEmpty: true })).toBeUndefined();
    expect(userTextProblem('x'.repeat(11), 'title', { maxLength: 10 })).toBe('title must be at most 10 characters (it has 11)');
    expect(userTextProblem(5, 'title', { maxLength: 10 })).toBe('title must be text');
  });
});
