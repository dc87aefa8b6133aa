/**
 * Writes contracts/AnchorRegistry.json from contracts/AnchorRegistry.sol.
 * Run with `npx tsx scripts/compile-contracts.ts` (or `npm run compile-contracts`) after editing
 * the contract, and commit both files: the runtime never runs solc.
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ANCHOR_REGISTRY_ARTIFACT_NAME,
  REPOSITORY_ROOT,
  compileAnchorRegistry,
  serializeArtifact,
} from './compile-anchor-registry.js';

const started = performance.now();
const { artifact, warnings } = await compileAnchorRegistry();
for (const warning of warnings) console.warn(warning);

const target = join(REPOSITORY_ROOT, ANCHOR_REGISTRY_ARTIFACT_NAME);
// Write then rename, so an interrupted run never leaves a half-written artifact behind.
const temporary = `${target}.tmp-${process.pid}`;
await writeFile(temporary, serializeArtifact(artifact));
await rename(temporary, target);

const deployedBytes = (artifact.deployedBytecode.length - 2) / 2;
console.log(
  `wrote ${ANCHOR_REGISTRY_ARTIFACT_NAME} (solc ${artifact.compiler.version}, evm ${artifact.compiler.evmVersion}, ` +
    `${deployedBytes} bytes deployed) in ${Math.round(performance.now() - started)} ms`,
);
