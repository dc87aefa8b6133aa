import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { VaultError } from './vault-error.js';

/**
 * A small secret sealed for this center only (AES-256-GCM under a key derived from the master
 * key), so it can travel in a period bundle to a peer that must not read it. The nonce is
 * derived from the plaintext (the SIV idea, RFC 5297 §1.3.2): sealing the same secret again
 * gives the same bytes, so a bundle rebuilt later is byte-identical to the one sent, and a nonce
 * never repeats for different plaintexts.
 */
export function sealSecret(masterKey: Buffer, context: string, plaintext: Buffer): string {
  const key = subkey(masterKey, context);
  const nonce = createHmac('sha256', key).update(plaintext).digest().subarray(0, 12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
}

/** Opens what {@link sealSecret} sealed; throws MASTER_KEY_MISMATCH when it does not open. */
export function openSecret(masterKey: Buffer, context: string, sealed: string): Buffer {
  const bytes = Buffer.from(sealed, 'base64');
  if (bytes.length < 28) throw new VaultError('BUNDLE_INVALID', `a sealed ${context} is too short`);
  const key = subkey(masterKey, context);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
  } catch (err) {
    throw new VaultError('MASTER_KEY_MISMATCH', `the sealed ${context} does not open with this master key`, { cause: err });
  }
}

function subkey(masterKey: Buffer, context: string): Buffer {
  return createHmac('sha256', masterKey).update(`archive-seal sealed secret: ${context}`).digest();
}
