import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Certificate } from '../../src/core/certificate.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** The frozen certificate of test/vectors/certificate-v1.json, the file it certifies, and the dev root. */
export function loadCertificateVector(): { certificate: Certificate; file: Buffer; digests: { sha256: string; sm3: string }; trustRoot: string } {
  const vector = JSON.parse(readFileSync(join(ROOT, 'test', 'vectors', 'certificate-v1.json'), 'utf8'));
  const file = Buffer.from(vector.file, 'base64');
  return {
    certificate: vector.certificate,
    file,
    digests: { sha256: createHash('sha256').update(file).digest('hex'), sm3: createHash('sm3').update(file).digest('hex') },
    trustRoot: readFileSync(join(ROOT, vector.trustRoot), 'utf8'),
  };
}

/** A deep copy to tamper with. */
export function copyOf<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
