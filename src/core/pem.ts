/**
 * PEM (RFC 7468) ⇄ DER for certificates and keys, browser-safe: only `atob`/`btoa`,
 * which Node 20 and every browser provide.
 */

/** One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, …) and its DER bytes. */
export interface PemBlock {
  label: string;
  der: Uint8Array;
}

// RFC 7468 §2: labels are printable ASCII without '-'; the body is base64 with optional whitespace.
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every PEM block in `text`, in order. Returns an empty list when there is none. */
export function readPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const label = match[1] ?? '';
    const body = (match[2] ?? '').replace(/\s+/g, '');
    blocks.push({ label, der: base64ToBytes(body) });
  }
  return blocks;
}

/**
 * The DER of the first block labelled `label` (default `CERTIFICATE`).
 * Throws when there is none: a caller that passes PEM expects one.
 */
export function pemToDer(text: string, label = 'CERTIFICATE'): Uint8Array {
  const block = readPemBlocks(text).find((b) => b.label === label);
  if (!block) throw new Error(`no PEM block labelled ${label}`);
  return block.der;
}

/** The DER of every `CERTIFICATE` block in `text` (a bundle or a single certificate). */
export function pemCertificatesToDer(text: string): Uint8Array[] {
  return readPemBlocks(text)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => b.der);
}

/** PEM text for `der`, base64 wrapped at 64 columns as RFC 7468 §2 requires of generators. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = bytesToBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Standard base64 (RFC 4648 §4) of `bytes`. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  // Chunked so that String.fromCharCode never gets more arguments than the engine allows.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Bytes of standard base64 text (RFC 4648 §4); throws on characters outside the alphabet. */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
