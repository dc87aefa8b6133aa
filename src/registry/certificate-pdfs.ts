import type { SigningIdentity } from '../pki/signed-data-builder.js';
import { signPdf } from '../pki/pdf-signer.js';
import type { TimestampAuthority } from '../pki/timestamp-authority.js';
import type { IssuedCertificate } from './certificate-issuer.js';
import { renderCertificatePdf } from './certificate-pdf.js';

export interface CertificatePdfsOptions {
  /** The center's document-signing identity (the one that signs certificates). */
  signer: SigningIdentity;
  /** The center's TSA: the signature-timestamp token comes from it. */
  tsa: TimestampAuthority;
  /** Zone of the local times printed beside UTC. */
  timeZone: string;
  center: { id: string; name: string };
}

/**
 * The printed certificates the center hands out: rendered (certificate-pdf.ts, with the signed
 * JSON attached) and signed PAdES-style by the center, timestamped by its TSA (pdf-signer.ts).
 */
export class CertificatePdfs {
  constructor(private readonly options: CertificatePdfsOptions) {}

  /** The signed PDF of `issued`, whose QR code and link open `verifyUrl`. */
  async signed(issued: IssuedCertificate, verifyUrl: string): Promise<Buffer> {
    const { signer, tsa, timeZone, center } = this.options;
    const pdf = await renderCertificatePdf(issued.certificate, { verifyUrl, timeZone });
    return signPdf(pdf, {
      signer,
      tsa,
      reason: `电子文件登记备份证书，登记号 ${issued.certificate.content.record.registrationId} / certificate of registration`,
      location: `${center.name}（${center.id}）`,
    });
  }
}
