import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFileDigester, sha256Hex, sm3Hex } from '../../src/core/digests.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('digests', () => {
  it('computes SM3 as GB/T 32905-2016 Appendix A gives it', async () => {
    expect(await sm3Hex(ascii('abc'))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
    expect(await sm3Hex(ascii('abcd'.repeat(16)))).toBe('debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  });

  it('computes SHA-256 as FIPS 180-4 examples give it', () => {
    expect(sha256Hex(ascii('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(ascii(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('streams both digests to the same bytes as node:crypto, however the file is cut', async () => {
    const data = randomBytes(300_000);
    const digester = await createFileDigester();
    for (let offset = 0, step = 1; offset < data.length; offset += step, step = (step * 7) % 65_521 + 1) {
      digester.update(data.subarray(offset, offset + step));
    }
    expect(digester.digest()).toEqual({
      sha256: createHash('sha256').update(data).digest('hex'),
      sm3: createHash('sm3').update(data).digest('hex'),
      size: data.length,
    });
  });
});
