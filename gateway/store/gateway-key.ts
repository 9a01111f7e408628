// The gateway's own signing key (Ed25519), made on first start in the data folder beside
// the ledger (docs/store.md "Retention"). It signs the retention checkpoint rows, and its
// public key goes out in …/stats so the office can pin it. Honest limit: whoever can
// read the data folder holds the key too, so a signature shows the checkpoint was made
// with this folder's key (not by a copy of the ledger alone), not that no one with the
// PC made it.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sha256 } from './chain.js';
import { StoreError } from './errors.js';

export const GATEWAY_KEY_FILE = 'gateway-key.pem';

export interface GatewayKey {
  /** First 16 hex digits of the SHA-256 of the raw public key. */
  id: string;
  /** The raw 32-byte public key, base64url. */
  publicKey: string;
  /** Ed25519 signature of the UTF-8 text, base64url. */
  sign(text: string): string;
}

function rawPublic(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(String(jwk.x), 'base64url');
}

/** Reads dataDir/gateway-key.pem, creating it (owner-only) when missing. */
export function loadOrCreateGatewayKey(dataDir: string): GatewayKey {
  const file = join(resolve(dataDir), GATEWAY_KEY_FILE);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StoreError('STORE_OPEN_FAILED', `cannot read the gateway key ${file}: ${(err as Error).message} (run as the gateway's user)`, { file }, err);
    }
    pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    try {
      // wx: two processes starting at once cannot both write a key; the loser reads the winner's.
      writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreError('STORE_OPEN_FAILED', `cannot write the gateway key ${file}: ${(e as Error).message}`, { file }, e);
      pem = readFileSync(file, 'utf8');
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`a ${privateKey.asymmetricKeyType} key`);
  } catch (err) {
    throw new StoreError('STORE_OPEN_FAILED', `${file}: expected an Ed25519 private key in PEM (PKCS #8): ${(err as Error).message}`, { file }, err);
  }
  const raw = rawPublic(createPublicKey(privateKey));
  return {
    id: sha256(raw).toString('hex').slice(0, 16),
    publicKey: raw.toString('base64url'),
    sign: (text) => sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64url'),
  };
}

/** Whether `sig` (base64url) is the Ed25519 signature of `text` under the raw public key (base64url). */
export function verifyGatewaySignature(publicKey: string, text: string, sig: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    return verify(null, Buffer.from(text, 'utf8'), key, Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}
