import { describe, expect, it } from 'vitest';
import { creditCodeCheckCharacter, creditCodeProblem } from '../../src/core/credit-code.js';

// Codes as published in the National Enterprise Credit Information Publicity System
// (国家企业信用信息公示系统) and printed on the companies' business licences.
const PUBLISHED = [
  ['9144030071526726XG', '腾讯科技（深圳）有限公司'],
  ['914403001922038216', '华为技术有限公司'],
  ['91330100799655058B', '阿里巴巴（中国）有限公司'],
  ['91110000802100433B', '北京百度网讯科技有限公司'],
] as const;

describe('the unified social credit code (GB 32100-2015)', () => {
  it.each(PUBLISHED)('accepts %s (%s)', (code) => {
    expect(creditCodeProblem(code)).toBeUndefined();
    expect(creditCodeCheckCharacter(code.slice(0, 17))).toBe(code[17]);
  });

  it('refuses every other check character for each published code', () => {
    const set = '0123456789ABCDEFGHJKLMNPQRTUWXY';
    for (const [code] of PUBLISHED) {
      for (const c of set) {
        if (c === code[17]) continue;
        expect(creditCodeProblem(code.slice(0, 17) + c)).toMatch(/check character/);
      }
    }
  });

  it('refuses a single changed character and two swapped neighbours (what a typist does)', () => {
    const [code] = PUBLISHED[1];
    expect(creditCodeProblem('914403001922038226')).toMatch(/check character/); // digit 17 changed
    expect(creditCodeProblem('914403001922032816')).toMatch(/check character/); // 15 and 16 swapped
    expect(code).toBe('914403001922038216');
  });

  it.each([
    ['too short', '91440300192203821', /18 characters/],
    ['too long', '9144030019220382160', /18 characters/],
    ['lower case', '9144030071526726xg', /not in the code set/],
    ['a letter the set leaves out (I)', '91440300715267I6XG', /not in the code set/],
    ['a letter the set leaves out (O)', '9144030O71526726XG', /not in the code set|digits/],
    ['full-width digits', '９１４４０３００１９２２０３８２１６', /not in the code set/],
    ['a division code with a letter', '91A40300192203821X', /digits/],
  ])('refuses %s', (_, code, message) => {
    expect(creditCodeProblem(code)).toMatch(message);
  });

  it('a check value of 31 is written 0', () => {
    // Find a prefix whose weighted sum is a multiple of 31: its check character must be 0.
    const base = '9133080000000000';
    for (const c of '0123456789ABCDEFGHJKLMNPQRTUWXY') {
      const prefix = base + c;
      if (creditCodeCheckCharacter(prefix) === '0') {
        expect(creditCodeProblem(prefix + '0')).toBeUndefined();
        return;
      }
    }
    throw new Error('no prefix found');
  });
});
