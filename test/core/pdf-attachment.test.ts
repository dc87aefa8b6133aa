import { describe, expect, it } from 'vitest';
import { certificateJsonFromPdf, looksLikePdf, PdfAttachmentError } from '../../src/core/pdf-attachment.js';
import { renderCertificatePdf } from '../../src/registry/certificate-pdf.js';
import { loadCertificateVector } from '../verify/certificate-fixture.js';

// Reading the certificate out of a PDF is pure core code that the page runs on any file a user
// drops: whatever the bytes, it answers the JSON or a PdfAttachmentError, never anything else.
const { certificate } = loadCertificateVector();
const verifyUrl = 'https://records.example.gov.cn/verify#cert=/v1/certificates/x';
const pdfOf = (text: string) => new TextEncoder().encode(text);

async function failure(bytes: Uint8Array): Promise<string> {
  try {
    await certificateJsonFromPdf(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(PdfAttachmentError);
    return (err as PdfAttachmentError).code;
  }
  throw new Error('read a certificate from bytes that hold none');
}

describe('the certificate attached to a PDF', () => {
  it('is found by the PDF magic and read back exactly', async () => {
    const pdf = await renderCertificatePdf(certificate, { verifyUrl });
    expect(looksLikePdf(pdf)).toBe(true);
    expect(looksLikePdf(pdfOf('{"format":'))).toBe(false);
    expect(await certificateJsonFromPdf(pdf)).toBe(JSON.stringify(certificate));
  });

  it('is found by scanning the objects when the cross-reference table is damaged', async () => {
    const pdf = Buffer.from(await renderCertificatePdf(certificate, { verifyUrl }));
    const at = pdf.lastIndexOf('startxref');
    pdf.write('startxref\n12 ', at, 'latin1');
    expect(await certificateJsonFromPdf(pdf)).toBe(JSON.stringify(certificate));
  });

  it('truncated, damaged or hostile PDFs give PDF_UNREADABLE or PDF_NO_CERTIFICATE, never another error', async () => {
    const pdf = Buffer.from(await renderCertificatePdf(certificate, { verifyUrl }));
    expect(await failure(pdf.subarray(0, pdf.length / 2))).toMatch(/^PDF_(UNREADABLE|NO_CERTIFICATE)$/);
    expect(await failure(pdfOf('%PDF-1.7\n'))).toBe('PDF_UNREADABLE');
    expect(await failure(pdfOf(`%PDF-1.7\n1 0 obj\n${'['.repeat(100_000)}\nendobj\ntrailer\n<</Root 1 0 R>>\n`))).toBe('PDF_UNREADABLE');
    expect(await failure(pdfOf('%PDF-1.7\n1 0 obj\n<</Type /Catalog>>\nendobj\ntrailer\n<</Root 1 0 R>>\n'))).toBe('PDF_NO_CERTIFICATE');
    // An attachment whose Flate data is not Flate, and one that claims more bytes than the file has.
    const spec = (stream: string) =>
      `%PDF-1.7\n1 0 obj\n<</Type /Catalog /AF [2 0 R]>>\nendobj\n2 0 obj\n<</Type /Filespec /F (c.json) /EF <</F 3 0 R>>>>\nendobj\n3 0 obj\n${stream}\nendobj\ntrailer\n<</Root 1 0 R>>\n`;
    expect(await failure(pdfOf(spec('<</Length 5 /Filter /FlateDecode>>\nstream\nnot z\nendstream')))).toBe('PDF_UNREADABLE');
    expect(await failure(pdfOf(spec('<</Length 99999>>\nstream\n{}\nendstream')))).toBe('PDF_UNREADABLE');
    expect(await certificateJsonFromPdf(pdfOf(spec('<</Length 2>>\nstream\n{}\nendstream')))).toBe('{}');
    // Random bytes after the header.
    for (let i = 0; i < 200; i++) {
      const junk = new Uint8Array(200 + i * 7);
      for (let j = 0; j < junk.length; j++) junk[j] = (j * 2654435761 + i * 40503) >>> 24;
      junk.set(pdfOf('%PDF-'));
      expect(await failure(junk)).toMatch(/^PDF_(UNREADABLE|NO_CERTIFICATE)$/);
    }
  });
});
