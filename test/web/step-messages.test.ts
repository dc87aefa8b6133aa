import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Certificate } from '../../src/core/certificate.js';
import type { VerificationStep, VerificationStepName, VerificationStepStatus } from '../../src/core/verify-certificate.js';
import { explainedCodes, STEP_NAMES, stepReason, stepRemedy } from '../../src/web/messages.js';

// What the browser verifier shows for each step is Chinese first (English on the toggle): every
// code the core (or the center's registry check) can put in a report has its own words in both
// languages, and so has every step that passed. A code added in src/core without them fails here.
const ROOT = join(import.meta.dirname, '..', '..');
/** Quoted upper-case names in src/core that are not codes of a verification report's steps. */
const NOT_STEP_CODES = new Map([
  ['NOT_AUTHENTIC', 'a verdict'],
  ['CANNOT_BE_DETERMINED', 'a verdict'],
  ['PDF_NO_CERTIFICATE', 'reading a certificate PDF: the page has its own words (certPdfNoAttachment)'],
  ['PDF_UNREADABLE', 'reading a certificate PDF: the page has its own words (certPdfUnreadable)'],
  ['RECEIPT_MALFORMED', 'a receipt check, not on this page'],
  ['RECEIPT_CONTENT_MISMATCH', 'a receipt check, not on this page'],
  ['RECEIPT_NOT_INCLUDED', 'a receipt check, not on this page'],
]);
const CJK = /[\u4e00-\u9fff]/;
const content = (JSON.parse(readFileSync(join(ROOT, 'test', 'vectors', 'certificate-v1.json'), 'utf8')) as { certificate: Certificate }).certificate?.content;

function reportCodes(): string[] {
  const files = [
    ...readdirSync(join(ROOT, 'src', 'core'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(ROOT, 'src', 'core', f)),
    join(ROOT, 'src', 'registry', 'registry-check.ts'),
  ];
  const codes = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)].map((m) => m[1]!));
  return [...new Set(codes)].filter((c) => !NOT_STEP_CODES.has(c)).sort();
}

const step = (name: VerificationStepName, status: VerificationStepStatus, code: string, extra: Partial<VerificationStep> = {}): VerificationStep => ({
  step: name,
  status,
  code,
  message: 'CORE ENGLISH MESSAGE',
  ...extra,
});

describe("the verifier page's words for each step", () => {
  const codes = reportCodes();

  it('finds the codes (the scan works), the renewal ones among them', () => {
    expect(codes).toContain('FILE_DIGEST_MISMATCH');
    expect(codes).toContain('SIGNER_EXPIRED_NO_RENEWAL');
    expect(codes).toContain('RENEWAL_OUT_OF_ORDER');
    expect(codes).toContain('REGISTRY_MISMATCH');
    expect(content?.record).toBeDefined();
  });

  it('has its own words for every code the core can report', () => {
    const explained = explainedCodes();
    expect(codes.filter((c) => !explained.has(c))).toEqual([]);
  });

  it('says each, failed or undetermined, in Chinese first, and in English on the toggle', () => {
    const wrong: string[] = [];
    for (const code of codes) {
      for (const status of ['failed', 'undetermined'] as const) {
        const s = step('long-term', status, code, { remedy: 'CORE ENGLISH REMEDY' });
        const zh = stepReason(s, content, 'zh');
        const en = stepReason(s, content, 'en');
        if (!CJK.test(zh.charAt(0)) || zh.includes('代码') || zh.includes('CORE ENGLISH')) wrong.push(`${code} ${status} zh: ${zh}`);
        if (CJK.test(en) || en.includes('(code') || en.includes('CORE ENGLISH')) wrong.push(`${code} ${status} en: ${en}`);
        const todo = stepRemedy(s, 'zh', content);
        if (status === 'undetermined' && (todo === undefined || !CJK.test(todo.charAt(0)))) wrong.push(`${code} remedy zh: ${todo}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('gives the renewal and long-term codes their own advice: fetch the renewals of this period', () => {
    for (const code of ['SIGNER_EXPIRED_NO_RENEWAL', 'SIGNER_EXPIRED_RENEWAL_ENDS', 'SIGNER_EXPIRED_BEFORE_RENEWAL', 'RENEWAL_IMPRINT_MISMATCH', 'RENEWAL_TOKEN_INVALID', 'RENEWAL_MALFORMED', 'RENEWAL_GENTIME_MISMATCH', 'RENEWAL_OUT_OF_ORDER']) {
      const s = step('renewal', 'undetermined', code, { remedy: 'CORE ENGLISH REMEDY' });
      expect(stepRemedy(s, 'zh', content), code).toBe(`请向登记中心重新获取本证书（或本期的续期记录：GET /v1/periods/${content!.period.id}），其中的续期时间戳可将证据延续到签发者证书到期之后，然后再次核验。`);
      expect(stepRemedy(s, 'en', content), code).toMatch(/^Fetch the certificate again from the center/);
    }
  });

  it('says what each passed step proves, in Chinese and in English, never the core message alone', () => {
    const details: Partial<Record<VerificationStepName, Record<string, unknown>>> = {
      signature: { signer: 'CN=Center' },
      timestamp: { genTime: '2026-12-01T00:00:00.000Z', tsa: 'CN=TSA' },
      renewal: { index: 1, genTime: '2027-06-01T00:00:00.000Z', renews: '2026-12-01T00:00:00.000Z', tsa: 'CN=TSA 2' },
      'long-term': { renewals: 1, validUntil: '2036-06-01T00:00:00.000Z' },
      anchor: { chainId: 4243 },
    };
    for (const name of Object.keys(STEP_NAMES) as VerificationStepName[]) {
      const s = step(name, 'ok', 'OK', details[name] ? { details: details[name] } : {});
      const zh = stepReason(s, content, 'zh');
      const en = stepReason(s, content, 'en');
      expect(CJK.test(zh.charAt(0)) || /^\d/.test(zh), `${name}: ${zh}`).toBe(true);
      expect(zh, name).not.toContain('CORE ENGLISH');
      expect(CJK.test(en), `${name}: ${en}`).toBe(false);
      expect(en, name).not.toContain('CORE ENGLISH');
    }
    const renewal = stepReason(step('renewal', 'ok', 'OK', { details: details.renewal! }), content, 'zh');
    expect(renewal).toMatch(/^第 1 次续期：时间戳机构 CN=TSA 2 于 .*2027-06-01T00:00:00.000Z.* 对本期根值连同前一个时间戳（.*2026-12-01T00:00:00.000Z.*）再次加盖时间戳/);
    expect(stepReason(step('long-term', 'ok', 'OK', { details: details['long-term']! }), content, 'zh')).toMatch(/^1 次续期将 .* 的时间戳延续至今/);
  });
});
