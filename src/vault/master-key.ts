import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { syncFileAndDirectorySync } from '../durable-files.js';
import { dirname } from 'node:path';
import { VaultError } from './vault-error.js';

/**
 * The center's master key: 32 random bytes that wrap every blob's data key. It lives in one
 * file (mode 0600) and never in the database, so a copy of the database (or a peer's copy of
 * the blobs) reveals nothing. `archive-seal keys export-master` prints the same text format,
 * to be kept offline; recovery imports it.
 */
export interface MasterKey {
  key: Buffer;
  /** 16 hex digits naming the key (HMAC of a constant under it): shown, stored, compared. */
  id: string;
}

const HEADER = 'archive-seal master key v1';

/** The key id of `key`: the first 8 bytes of HMAC-SHA-256(key, "archive-seal master key id"). */
export function masterKeyId(key: Buffer): string {
  return createHmac('sha256', key).update('archive-seal master key id').digest('hex').slice(0, 16);
}

/** The text of a key file (the same text `keys export-master` prints). */
export function formatMasterKey(key: MasterKey): string {
  return `${HEADER}\nkey-id: ${key.id}\nkey: ${key.key.toString('base64')}\n`;
}

/** Parses a key file's text; checks the key against its id, so a mistyped copy is caught. */
export function parseMasterKey(text: string): MasterKey {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const field = (name: string) => lines.find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
  const encoded = field('key');
  if (lines[0] !== HEADER || !encoded || !/^[A-Za-z0-9+/]{43}=$/.test(encoded)) {
    throw new VaultError('MASTER_KEY_INVALID', `not an archive-seal master key (expected "${HEADER}" and a "key:" line)`);
  }
  const key = Buffer.from(encoded, 'base64');
  const id = masterKeyId(key);
  const claimed = field('key-id');
  if (claimed !== undefined && claimed !== id) {
    throw new VaultError('MASTER_KEY_INVALID', `the key does not match its key-id ${claimed} (a damaged copy?)`);
  }
  return { key, id };
}

/** Reads the key file, or undefined when there is none. */
export function readMasterKeyFile(file: string): MasterKey | undefined {
  if (!existsSync(file)) return undefined;
  return parseMasterKey(readFileSync(file, 'utf8'));
}

/** Writes a key file with mode 0600; never replaces an existing one. */
export function writeMasterKeyFile(file: string, key: MasterKey): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, formatMasterKey(key), { mode: 0o600, flag: 'wx' });
  // Durable before any blob is sealed under it: a crash must not keep blobs and lose their key.
  syncFileAndDirectorySync(file);
}

/** A fresh random key. */
export function generateMasterKey(): MasterKey {
  const key = randomBytes(32);
  return { key, id: masterKeyId(key) };
}
