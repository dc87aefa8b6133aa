import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalize, CanonicalJsonError } from '../../src/core/canonical-json.js';

describe('RFC 8785 canonical JSON', () => {
  it('gives the RFC §3.2.2 example output, byte for byte (§3.2.4)', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        '"literals": [null, true, false]}',
    );
    const expected =
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    expect(canonicalize(input)).toBe(expected);
    expect(Buffer.from(canonicalBytes(input)).toString('hex')).toBe(
      '7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a5b3333333333333333332e333333333333332c31652b33302c342e352c302e3030322c31652d32375d2c22737472696e67223a22e282ac245c75303030665c6e41274' +
        '25c225c5c5c5c5c222f227d',
    );
  });

  it('sorts members by UTF-16 code units (§3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // Read the values in text order (JSON.parse would move the integer-like key "1" first).
    const inTextOrder = [...canonicalize(input).matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
    expect(inTextOrder).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
  });

  // Appendix B: IEEE 754 bit patterns and their canonical text.
  const numbers: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  it.each(numbers)('serializes the double %s as %s (Appendix B)', (bits, text) => {
    const value = Buffer.from(bits, 'hex').readDoubleBE(0);
    expect(canonicalize(value)).toBe(text);
  });

  it('refuses NaN, Infinity and lone surrogates (I-JSON)', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, { a: Number.NEGATIVE_INFINITY }, '\ud800', { '\udc00': 1 }]) {
      expect(() => canonicalize(bad)).toThrow(CanonicalJsonError);
    }
  });

  it('omits undefined members and refuses non-JSON values', () => {
    expect(canonicalize({ b: 1, a: undefined })).toBe('{"b":1}');
    expect(() => canonicalize(new Date(0))).toThrow(CanonicalJsonError);
    expect(() => canonicalize(() => 1)).toThrow(CanonicalJsonError);
    expect(() => canonicalize(10n)).toThrow(CanonicalJsonError);
  });

  // Values whose members are already in order are written by JSON.stringify (the fast path);
  // the same values with members in another order go through the general serializer.
  it('gives the same bytes whatever the member order (fast path and general path agree)', () => {
    const reorder = (v: unknown, order: (keys: string[]) => string[]): unknown => {
      if (Array.isArray(v)) return v.map((x) => reorder(x, order));
      if (v === null || typeof v !== 'object') return v;
      // fromEntries defines members, so a "__proto__" key stays a member as JSON.parse makes it.
      return Object.fromEntries(order(Object.keys(v)).map((k) => [k, reorder((v as Record<string, unknown>)[k], order)]));
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const sorted = canonicalize(reorder(value, (keys) => [...keys].sort()));
        expect(canonicalize(reorder(value, (keys) => [...keys].sort().reverse()))).toBe(sorted);
        expect(JSON.parse(sorted)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses lone surrogates and non-JSON values on the fast path too', () => {
    expect(() => canonicalize({ a: '\ud800' })).toThrow(CanonicalJsonError);
    expect(() => canonicalize({ ['\udc00']: 1 })).toThrow(CanonicalJsonError);
    expect(() => canonicalize({ a: Number.NaN })).toThrow(CanonicalJsonError);
    expect(() => canonicalize([1, () => 2])).toThrow(CanonicalJsonError);
    expect(canonicalize({ b: 1, a: undefined })).toBe('{"b":1}');
    // toJSON is not JSON data: the general path ignores it on arrays and refuses it as a member.
    expect(canonicalize({ a: Object.assign([1, 2], { toJSON: () => 'x' }) })).toBe('{"a":[1,2]}');
    expect(() => canonicalize({ a: { toJSON: () => 'x' } })).toThrow(CanonicalJsonError);
  });
});
