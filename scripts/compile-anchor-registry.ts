/**
 * Compiles contracts/AnchorRegistry.sol with the solc pinned in devDependencies (standard JSON,
 * offline), producing the artifact that the runtime reads. Kept apart from the CLI in
 * compile-contracts.ts so a test can recompile and compare without writing anything.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Where the source and the committed artifact live, relative to the repository root. */
export const ANCHOR_REGISTRY_SOURCE_NAME = 'contracts/AnchorRegistry.sol';
export const ANCHOR_REGISTRY_ARTIFACT_NAME = 'contracts/AnchorRegistry.json';

/** Absolute path of the repository root (this file lives in scripts/). */
export const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));

// solc's own default is osaka; pin a fork every EVM chain the center may anchor on supports
// (consortium chains such as FISCO BCOS EVM lag behind mainnet).
const EVM_VERSION = 'shanghai';
const OPTIMIZER = { enabled: true, runs: 200 } as const;

/** The compiled contract as written to contracts/AnchorRegistry.json (keys in this order). */
export interface AnchorRegistryArtifact {
  contractName: string;
  sourceName: string;
  sourceSha256: string;
  compiler: { version: string; evmVersion: string; optimizer: { enabled: boolean; runs: number } };
  abi: unknown[];
  bytecode: string;
  deployedBytecode: string;
}

interface SolcOutput {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string }[];
  contracts?: Record<
    string,
    Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >;
}

interface Solc {
  version(): string;
  compile(input: string): string;
}

/**
 * Compiles AnchorRegistry.sol and returns the artifact; throws on any compiler error.
 * Compiler warnings are returned alongside so the CLI can show them.
 */
export async function compileAnchorRegistry(): Promise<{ artifact: AnchorRegistryArtifact; warnings: string[] }> {
  const source = await readFile(new URL(`../${ANCHOR_REGISTRY_SOURCE_NAME}`, import.meta.url), 'utf8');
  // solc is CommonJS and heavy (~225 MB while compiling); load it only when asked.
  const solc = createRequire(import.meta.url)('solc') as Solc;
  const input = {
    language: 'Solidity',
    sources: { [ANCHOR_REGISTRY_SOURCE_NAME]: { content: source } },
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: OPTIMIZER,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const problems = output.errors ?? [];
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }
  const compiled = output.contracts?.[ANCHOR_REGISTRY_SOURCE_NAME]?.['AnchorRegistry'];
  if (compiled === undefined) throw new Error('solc produced no AnchorRegistry contract');
  const artifact: AnchorRegistryArtifact = {
    contractName: 'AnchorRegistry',
    sourceName: ANCHOR_REGISTRY_SOURCE_NAME,
    sourceSha256: createHash('sha256').update(source, 'utf8').digest('hex'),
    compiler: { version: solc.version(), evmVersion: EVM_VERSION, optimizer: { ...OPTIMIZER } },
    abi: compiled.abi,
    bytecode: `0x${compiled.evm.bytecode.object}`,
    deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
  };
  return { artifact, warnings: problems.filter((p) => p.severity !== 'error').map((p) => p.formattedMessage) };
}

/** The artifact's file content: pretty JSON with a final newline, keys in declaration order. */
export function serializeArtifact(artifact: AnchorRegistryArtifact): string {
  return `${JSON.stringify(artifact, null, 2)}\n`;
}
