import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalize } from '../core/canonical-json.js';
import { verifyDetachedCms } from '../core/cms-verify.js';
import { writeFileDurably } from '../durable-files.js';
import { getCenterMeta, setCenterMeta } from '../store/accounts-repository.js';
import type { Store } from '../store/store.js';
import { openSecret, sealSecret } from './sealed-secret.js';
import { VaultError } from './vault-error.js';

/**
 * The embedded chain's state as a peer keeps it: anvil's last good state file (every block,
 * transaction and the AnchorRegistry's storage), the registry's deployment and the center's
 * chain key, sealed under the master key (the key is a secret; the peer reads only the outer
 * fields) and signed by the center. The embedded chain lives in the data directory, so without
 * this copy a recovery would bring back anchors that name blocks no chain has, and every
 * certificate issued before the disaster would fail its anchor check.
 *
 * A copy is made only once the state file holds the block of every confirmed anchor of the
 * chain; a newer state (a new anchor) replaces the peer's copy.
 */
export const CHAIN_STATE_FORMAT = 'archive-seal/chain-state@1';
/** The embedded chain's name (`ChainSettings.name`), and the object name of its copy. */
export const LOCAL_CHAIN_NAME = 'local';

const STATE_FILE = 'anvil-state.json';
const DEPLOYMENT_FILE = 'deployment.json';
const KEY_FILE = 'center-key.hex';

export interface ChainStateDocument {
  format: typeof CHAIN_STATE_FORMAT;
  center: string;
  chain: string;
  /** The newest block the state holds. */
  bestBlock: number;
  /** `{ state, deployment, centerKey }` sealed under the master key (see sealed-secret.ts). */
  sealed: string;
}

interface ChainStatePlain {
  state: string;
  deployment: string;
  centerKey: string;
}

/**
 * The document for the embedded chain in `chainDir`, or undefined when there is nothing to copy
 * yet (no state, no deployment) or the state file does not yet hold every confirmed anchor's
 * block (anvil dumps it every second: the next pass will find it).
 */
export async function buildChainStateDocument(store: Store, chainDir: string, options: { centerId: string; masterKey: Buffer }): Promise<Buffer | undefined> {
  let plain: ChainStatePlain;
  try {
    plain = {
      // The `.good` copy: a file that parsed, never one anvil is half-way through rewriting.
      state: await readFile(join(chainDir, `${STATE_FILE}.good`), 'utf8'),
      deployment: await readFile(join(chainDir, DEPLOYMENT_FILE), 'utf8'),
      centerKey: await readFile(join(chainDir, KEY_FILE), 'utf8'),
    };
  } catch {
    return undefined;
  }
  let bestBlock: number;
  try {
    bestBlock = Number((JSON.parse(plain.state) as { best_block_number?: unknown }).best_block_number);
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(bestBlock)) return undefined;
  const newestAnchor = store
    .prepare("SELECT max(block_number) FROM anchor WHERE chain = ? AND status = 'confirmed'")
    .pluck()
    .get(LOCAL_CHAIN_NAME) as number | null;
  if (newestAnchor !== null && bestBlock < newestAnchor) return undefined;
  const document: ChainStateDocument = {
    format: CHAIN_STATE_FORMAT,
    center: options.centerId,
    chain: LOCAL_CHAIN_NAME,
    bestBlock,
    sealed: sealSecret(options.masterKey, 'chain-state', Buffer.from(canonicalize(plain), 'utf8')),
  };
  return Buffer.from(canonicalize(document), 'utf8');
}

/** The embedded chain's state as last built for the peers: what their copies are compared with. */
export interface CurrentChainState {
  /** SHA-256 (hex) of the document (what a peer confirms holding). */
  sha256: string;
  /** The newest block it holds. */
  bestBlock: number;
  /** When a state with these bytes was first built. */
  since: string;
}

const CURRENT_CHAIN_STATE_KEY = 'chain-state-current:local';

/** Records the state just built (keeping `since` while its bytes are the same). */
export function recordCurrentChainState(store: Store, state: { sha256: string; bestBlock: number; at: string }): void {
  const known = currentChainState(store);
  if (known?.sha256 === state.sha256) return;
  setCenterMeta(store, CURRENT_CHAIN_STATE_KEY, JSON.stringify({ sha256: state.sha256, bestBlock: state.bestBlock, since: state.at } satisfies CurrentChainState));
}

/** The state last built for the peers, or undefined when none has been (no embedded chain, or not yet). */
export function currentChainState(store: Store): CurrentChainState | undefined {
  const value = getCenterMeta(store, CURRENT_CHAIN_STATE_KEY);
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value) as CurrentChainState;
    return typeof parsed.sha256 === 'string' && Number.isSafeInteger(parsed.bestBlock) && typeof parsed.since === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The newest block a chain state document holds (its outer, unsealed field), or undefined. */
export function bestBlockOf(bytes: Buffer): number | undefined {
  try {
    const block = (JSON.parse(bytes.toString('utf8')) as { bestBlock?: unknown }).bestBlock;
    return Number.isSafeInteger(block) ? (block as number) : undefined;
  } catch {
    return undefined;
  }
}

/** Checks a chain state document's signature and outer fields; returns it (still sealed). */
export async function verifyChainStateDocument(signed: { bytes: Buffer; signature: Buffer }, name: string, trustRoots: readonly (string | Uint8Array)[]): Promise<ChainStateDocument> {
  const cms = await verifyDetachedCms(signed.signature, signed.bytes, trustRoots);
  if (cms.status !== 'ok') throw new VaultError('BUNDLE_INVALID', `the chain state's signature does not verify: ${cms.code}: ${cms.message}`);
  let document: ChainStateDocument;
  try {
    document = JSON.parse(signed.bytes.toString('utf8')) as ChainStateDocument;
  } catch {
    throw new VaultError('BUNDLE_INVALID', 'the chain state is not JSON');
  }
  if (document.format !== CHAIN_STATE_FORMAT || document.chain !== name || typeof document.sealed !== 'string' || !Number.isSafeInteger(document.bestBlock)) {
    throw new VaultError('BUNDLE_INVALID', `the chain state held as ${name} is not one`);
  }
  return document;
}

/**
 * Writes the embedded chain's files from a verified document into `chainDir` (made 0700, each
 * file 0600): anvil starts from that state, and the center finds its registry and key there.
 */
export async function restoreChainState(document: ChainStateDocument, chainDir: string, masterKey: Buffer): Promise<void> {
  const plain = JSON.parse(openSecret(masterKey, 'chain-state', document.sealed).toString('utf8')) as ChainStatePlain;
  await mkdir(chainDir, { recursive: true, mode: 0o700 });
  await writeFileDurably(join(chainDir, STATE_FILE), plain.state);
  await writeFileDurably(join(chainDir, `${STATE_FILE}.good`), plain.state);
  await writeFileDurably(join(chainDir, DEPLOYMENT_FILE), plain.deployment);
  await writeFileDurably(join(chainDir, KEY_FILE), plain.centerKey);
}
