/**
 * The certificate PDF: how long one takes to render and to sign (PAdES, with a signature
 * timestamp from the built-in TSA), how large it is, and how long the CLI and page take to read
 * the certificate back out of it. Medians of N runs after one warm-up (the first PDF reads the
 * fonts: ~63 MB, reported apart).
 *
 *   npx tsx scripts/bench-certificate-pdf.ts [N=20]
 */
import { certificateJsonFromPdf } from '../src/core/pdf-attachment.js';
import { loadDevelopmentPki } from '../src/pki/dev-pki.js';
import { signPdf } from '../src/pki/pdf-signer.js';
import { BuiltInTimestampAuthority } from '../src/pki/timestamp-authority.js';
import { renderCertificatePdf } from '../src/registry/certificate-pdf.js';
import { copyOf, loadCertificateVector } from '../test/verify/certificate-fixture.js';

const runs = Number(process.argv[2] ?? 20);
const { certificate } = loadCertificateVector();
const rare = copyOf(certificate);
rare.content.record.title = '𠮷田家族谱（䶮）';
const pki = loadDevelopmentPki();
const tsa = new BuiltInTimestampAuthority({ identity: pki.tsa });
const verifyUrl = 'https://records.example.gov.cn/verify#cert=/v1/certificates/YJaDc4D-hmQNlheRRE228w';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  let t = performance.now();
  await renderCertificatePdf(certificate, { verifyUrl });
  console.log(`first PDF (fonts read): ${(performance.now() - t).toFixed(0)} ms`);
  for (const [name, cert] of [['plain', certificate], ['with 𠮷 䶮 (fallback font)', rare]] as const) {
    const render: number[] = [];
    const sign: number[] = [];
    const extract: number[] = [];
    let unsigned = 0;
    let signed = 0;
    for (let i = 0; i < runs; i++) {
      t = performance.now();
      const pdf = await renderCertificatePdf(cert, { verifyUrl });
      render.push(performance.now() - t);
      t = performance.now();
      const out = await signPdf(pdf, { signer: pki.center, tsa, reason: 'bench' });
      sign.push(performance.now() - t);
      t = performance.now();
      await certificateJsonFromPdf(out);
      extract.push(performance.now() - t);
      unsigned = pdf.length;
      signed = out.length;
    }
    console.log(
      `${name}: render ${median(render).toFixed(0)} ms, sign ${median(sign).toFixed(1)} ms, read back ${median(extract).toFixed(1)} ms (medians of ${runs}); ${unsigned} bytes unsigned, ${signed} signed`,
    );
  }
}

await main();
