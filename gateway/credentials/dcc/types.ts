// The contract of the EU DCC ("HC1:") verifier: what goes in, what comes out. Pure data.
// The pipeline lives beside this file; the lane and the CLI only use these shapes and
// `verifyDcc` from ./index.js.

/** Stages in pipeline order (../shared/dcc/README.md). A failure names the first one that failed. */
export const DCC_STAGES = [
  'prefix',
  'base45',
  'decompress',
  'cose',
  'cbor',
  'signature',
  'trust',
  'keyusage',
  'expired',
  'not-yet-valid',
  'schema',
] as const;
export type DccStage = (typeof DCC_STAGES)[number];

export const DCC_TYPES = ['vaccination', 'test', 'recovery'] as const;
export type DccType = (typeof DCC_TYPES)[number];

/** One document signer certificate (DSC) the verifier trusts, as in the CLI's trust.json. */
export interface DccTrustInput {
  /** base64 of the first 8 bytes of SHA-256 of the DER (the COSE kid). */
  kid: string;
  /** base64 DER of the X.509 certificate. */
  certificate: string;
}

/** HCERT payload (claim -260, key 1) as the schema admits it; only what the gateway reads is typed. */
export interface HcertName {
  fn?: string;
  fnt: string;
  gn?: string;
  gnt?: string;
}
export interface HcertVaccination {
  tg: string; vp: string; mp: string; ma: string; dn: number; sd: number; dt: string; co: string; is: string; ci: string;
}
export interface HcertTest {
  tg: string; tt: string; nm?: string; ma?: string; sc: string; tr: string; tc?: string; co: string; is: string; ci: string;
}
export interface HcertRecovery {
  tg: string; fr: string; co: string; is: string; df: string; du: string; ci: string;
}
export interface Hcert {
  ver: string;
  nam: HcertName;
  dob: string;
  v?: HcertVaccination[];
  t?: HcertTest[];
  r?: HcertRecovery[];
}

/** A certificate that passed every stage. Times are epoch ms. */
export interface DccValid {
  valid: true;
  stage: null;
  code: 'DCC_VALID';
  kid: string;
  type: DccType;
  /** Issuing country (CWT claim 1), when present. */
  issuer: string | null;
  issuedAt: number | null;
  expiresAt: number | null;
  hcert: Hcert;
}

/** A certificate that failed: the first stage that failed and a stable code; never personal data in `message`. */
export interface DccInvalid {
  valid: false;
  stage: DccStage;
  code: string;
  message: string;
  kid: string | null;
  type: DccType | null;
}

export type DccResult = DccValid | DccInvalid;

/** The QR prefix of a DCC. */
export const DCC_PREFIX = 'HC1:';
