// vitest setup: ARCHIVE_SEAL_TEST_SIGNATURE_ENGINE=node runs the verification tests with the
// node:crypto engine as the default instead of pkijs, to show both give the same verdicts:
//   ARCHIVE_SEAL_TEST_SIGNATURE_ENGINE=node npx vitest run test/pki test/verify test/core test/vectors.test.ts
import { setDefaultSignatureEngine } from '../../src/core/signature-engine.js';
import { nodeSignatureEngine } from '../../src/pki/node-signature-engine.js';

if (process.env.ARCHIVE_SEAL_TEST_SIGNATURE_ENGINE === 'node') setDefaultSignatureEngine(nodeSignatureEngine);
