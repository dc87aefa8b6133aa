/**
 * The unified social credit code (统一社会信用代码) of GB 32100-2015: 18 characters from the
 * 31-character set 0-9 and A-Y without I, O, S, V, Z. Character 1 is the registration authority,
 * 2 the kind of organisation, 3-8 the administrative division code (GB/T 2260), 9-17 the
 * organisation's code (GB 11714), 18 a check character computed over the first 17 (§4.3 of the
 * standard): weights W_i = 3^(i-1) mod 31, C18 = 31 - (Σ C_i·W_i mod 31), and 31 stands for 0.
 *
 * Pure (no node:*): the server, the CLI and the browser check codes with the same function.
 */

/** The code set, in the order of the values the standard gives them (0..30). */
const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** 3^(i-1) mod 31 for i = 1..17 (table 3 of GB 32100-2015). */
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

/** The check character for the first 17 characters, or undefined when one is outside the set. */
export function creditCodeCheckCharacter(first17: string): string | undefined {
  if (first17.length !== 17) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = CHARSET.indexOf(first17[i]!);
    if (value < 0) return undefined;
    sum += value * WEIGHTS[i]!;
  }
  const check = 31 - (sum % 31);
  return CHARSET[check === 31 ? 0 : check];
}

/**
 * Why `code` is not a unified social credit code (a sentence), or undefined when it is one:
 * 18 characters of the set, positions 3-8 digits (a division code), and the right check character.
 * Lower-case letters are not accepted: the code is printed in capitals on every licence.
 */
export function creditCodeProblem(code: string): string | undefined {
  if (code.length !== 18) return `a unified social credit code has 18 characters; this has ${code.length}`;
  for (let i = 0; i < 18; i++) {
    if (!CHARSET.includes(code[i]!)) {
      return `character ${i + 1} (${JSON.stringify(code[i])}) is not in the code set of GB 32100 (0-9 and capitals A-Y without I, O, S, V, Z)`;
    }
  }
  if (!/^\d{6}$/.test(code.slice(2, 8))) return 'characters 3 to 8 must be digits (the administrative division code)';
  const expected = creditCodeCheckCharacter(code.slice(0, 17));
  if (code[17] !== expected) return `the check character is ${code[17]}, but the first 17 characters give ${expected} (GB 32100-2015 §4.3)`;
  return undefined;
}
