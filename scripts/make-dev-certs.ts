/**
 * Writes the development PKI into certs/dev/ (root, center signer, TSA, and their keys).
 * Run once: `npx tsx scripts/make-dev-certs.ts`. Replacing the set breaks every test vector
 * signed under the old root, so it refuses to overwrite unless given --force.
 * `--reissue-center` replaces only the center's key and certificate, under the same root.
 */
import { DEVELOPMENT_CERTS_DIR, makeDevelopmentPki, loadDevelopmentPki, reissueDevelopmentCenter } from '../src/pki/dev-pki.js';
import { writePkiSet } from '../src/pki/key-management.js';
import { PkiError } from '../src/pki/pki-error.js';

const force = process.argv.includes('--force');
const reissueCenter = process.argv.includes('--reissue-center');
let written: string[];
try {
  written = reissueCenter
    ? writePkiSet(DEVELOPMENT_CERTS_DIR, reissueDevelopmentCenter(), { overwrite: true })
    : writePkiSet(DEVELOPMENT_CERTS_DIR, makeDevelopmentPki(), { overwrite: force });
} catch (e) {
  if (e instanceof PkiError && e.code === 'FILE_EXISTS') {
    console.error(`${e.message}\nThe development set already exists; pass --force to replace it (old test vectors will stop verifying).`);
    process.exit(1);
  }
  throw e;
}
const pki = loadDevelopmentPki();
for (const path of written) console.log(`wrote ${path}`);
console.log(`center: ${pki.center.certificate.facts.subject} until ${pki.center.certificate.facts.notAfter.toISOString()}`);
console.log(`TSA:    ${pki.tsa.certificate.facts.subject} until ${pki.tsa.certificate.facts.notAfter.toISOString()}`);
