import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * The schema as kysely sees it. Times are ISO 8601 UTC strings, digests and hashes raw bytes,
 * booleans 0/1 (SQLite has no boolean type).
 */
export interface Database {
  center_meta: CenterMetaTable;
  account: AccountTable;
  api_token: ApiTokenTable;
  period: PeriodTable;
  registration: RegistrationTable;
  tree_chunk: TreeChunkTable;
  period_timestamp: PeriodTimestampTable;
  period_timestamp_renewal: PeriodTimestampRenewalTable;
  anchor: AnchorTable;
  certificate: CertificateTable;
  vault_blob: VaultBlobTable;
  replica: ReplicaTable;
  held_copy: HeldCopyTable;
  copy_count: CopyCountTable;
  copy_count_total: CopyCountTotalTable;
  replica_total: ReplicaTotalTable;
  preservation_event: PreservationEventTable;
  alarm: AlarmTable;
  download: DownloadTable;
  unit: UnitTable;
  app_user: AppUserTable;
  user_session: UserSessionTable;
}

export interface CenterMetaTable {
  key: string;
  value: string;
}

/**
 * The kind of an account (the registrant identity records name): staff's own, a depositor (a
 * unit or a private registrant), or an auditor's (which registers nothing). Who may do what is
 * the user's role (UserRole), not this.
 */
export type Role = 'admin' | 'registrar' | 'depositor' | 'auditor';

/** The roles of users (src/people/permissions.ts says what each may do). */
export type UserRole = 'admin' | 'registrar' | 'auditor' | 'unit-admin' | 'clerk' | 'citizen';

/** GB 32100's kinds, as the policy names them (机关, 事业单位, 国有企业, 民营企业, 社会组织). */
export type UnitKind = 'agency' | 'public-institution' | 'state-enterprise' | 'private-enterprise' | 'social-organization';

export interface UnitTable {
  id: Generated<number>;
  /** The unit's name (Chinese); records registered by its users name it. */
  name: string;
  /** 统一社会信用代码 (GB 32100), unique; null for a unit migrated from an account that had none. */
  credit_code: string | null;
  /** Null only for a unit migrated from an account (staff fill it in). */
  kind: UnitKind | null;
  /** One of the center's configured regions; null only for a migrated unit. */
  region: string | null;
  /** 1: listed in the transfer scope (列入进馆范围). */
  in_transfer_scope: number;
  /** 1: the unit has a digital archive room (数字档案室). */
  digital_archive_room: number;
  contact: string | null;
  status: 'active' | 'suspended';
  /** The account its users register as (records name the unit). */
  account_id: number;
  created_at: string;
  updated_at: string;
}

export interface AppUserTable {
  id: Generated<number>;
  /** The login name: unique. */
  username: string;
  display_name: string;
  role: UserRole;
  /** The unit of a unit-admin or clerk; null for staff, auditors and citizens. */
  unit_id: number | null;
  /** The account the user registers as: the unit's for unit users, its own otherwise. */
  account_id: number;
  /** `scrypt$N$r$p$salt$hash` (base64url); null: no password (tokens only, e.g. a migrated account). */
  password_hash: string | null;
  /** Failed logins since the last success. */
  failed_logins: number;
  /** While in the future, logins are refused (ACCOUNT_LOCKED). */
  locked_until: string | null;
  status: 'active' | 'suspended';
  created_at: string;
}

export interface UserSessionTable {
  id: Generated<number>;
  /** SHA-256 of the session id the cookie carries; the id itself is never stored. */
  session_hash: Buffer;
  user_id: number;
  created_at: string;
  expires_at: string;
  /** Set at logout: the cookie no longer opens anything. */
  ended_at: string | null;
}

export type UnitRow = Selectable<UnitTable>;
export type AppUserRow = Selectable<AppUserTable>;
export type UserSessionRow = Selectable<UserSessionTable>;

export interface AccountTable {
  id: Generated<number>;
  name: string;
  role: Role;
  /** 1: records name this account by a pseudonym, not its name (private registrants). */
  pseudonymous: number;
  created_at: string;
}

export interface ApiTokenTable {
  id: Generated<number>;
  account_id: number;
  /** SHA-256 of the bearer token; the token itself is shown once and never stored. */
  token_hash: Buffer;
  created_at: string;
  revoked_at: string | null;
  /** The user the token belongs to (it carries that user's rights); null only before migration. */
  user_id: number | null;
  /** After this, the token no longer opens anything; null: no expiry. */
  expires_at: string | null;
}

export type ApiTokenRow = Selectable<ApiTokenTable>;

export type PeriodStatus = 'open' | 'sealing' | 'sealed';

export interface PeriodTable {
  id: Generated<number>;
  status: PeriodStatus;
  opened_at: string;
  /** When the period stopped taking registrations (status `sealing` or `sealed`). */
  closed_at: string | null;
  sealed_at: string | null;
  leaf_count: number;
  /** Null for an open period and for a sealed empty one: empty periods are not rooted. */
  root: Buffer | null;
  /** Root of the last non-empty sealed period before this one; 32 zero bytes for the first. */
  previous_root: Buffer | null;
}

export interface RegistrationTable {
  id: number;
  period_id: number;
  leaf_index: number;
  registrant_id: number;
  sha256: Buffer;
  /** 6 bytes of SHA-256(`sha256`) as an integer: the key of the duplicate look-up. */
  sha256_key: number;
  sm3: Buffer | null;
  size: number | null;
  has_file: number;
  /** The record's RFC 8785 canonical JSON: exactly the bytes whose SHA-256 is `record_digest`. */
  record: string;
  record_digest: Buffer;
  salt: Buffer;
  leaf_hash: Buffer;
  registered_at: string;
}

/** A run of consecutive node hashes of one tree level (`CHUNK_HASHES` × 32 bytes, the last shorter). */
export interface TreeChunkTable {
  period_id: number;
  level: number;
  chunk: number;
  hashes: Buffer;
}

export type AccountRow = Selectable<AccountTable>;
export type PeriodRow = Selectable<PeriodTable>;
export type RegistrationRow = Selectable<RegistrationTable>;
export type NewRegistrationRow = Insertable<RegistrationTable>;

export interface PeriodTimestampTable {
  period_id: number;
  /** DER TimeStampToken (a CMS ContentInfo), RFC 3161 §2.4.2. */
  token: Buffer;
  gen_time: string;
  tsa: string;
  serial: string;
  /** 'built-in' or the URL of the external TSA. */
  authority: string;
  created_at: string;
}

/** A renewal of a period's token (RFC 4998 style): imprint SHA-256(root ‖ DER of the link before). */
export interface PeriodTimestampRenewalTable {
  period_id: number;
  /** 1 for the renewal of the period's own token, then 2, 3, … */
  seq: number;
  token: Buffer;
  gen_time: string;
  tsa: string;
  serial: string;
  reason: string;
  authority: string;
  created_at: string;
}

/** sending → sent → confirmed; `failed` and `reorged` attempts are kept and a new one follows. */
export type AnchorStatus = 'sending' | 'sent' | 'confirmed' | 'failed' | 'reorged';

export interface AnchorTable {
  id: Generated<number>;
  period_id: number;
  chain: string;
  chain_id: number;
  contract: string;
  status: AnchorStatus;
  tx_hash: string | null;
  nonce: number | null;
  block_number: number | null;
  block_hash: string | null;
  block_time: string | null;
  confirmations: Generated<number>;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export type AnchorRow = Selectable<AnchorTable>;
export type PeriodTimestampRow = Selectable<PeriodTimestampTable>;
export type PeriodTimestampRenewalRow = Selectable<PeriodTimestampRenewalTable>;

export interface CertificateTable {
  /** Random, unguessable: the public link to the certificate. */
  id: string;
  registration_id: number;
  issued_at: string;
  anchor_ids: string;
  /** The certificate file (JSON). */
  document: string;
}

export type CertificateRow = Selectable<CertificateTable>;

/** An encrypted original in the vault, by the SHA-256 of its plaintext. */
export interface VaultBlobTable {
  sha256: Buffer;
  sm3: Buffer;
  size: number;
  cipher_size: number;
  /** SHA-256 of the encrypted file; computed when first needed (replication, audit). */
  cipher_sha256: Buffer | null;
  wrapped_key: Buffer;
  master_key_id: string;
  status: 'ok' | 'damaged' | 'missing';
  created_at: string;
  checked_at: string | null;
}

/**
 * A blob, a sealed period's bundle, a journal segment (registrations of a period not yet sealed),
 * a certificate segment (issued certificates, with their public link ids), or the embedded
 * chain's state.
 */
export type ReplicaKind = 'blob' | 'period' | 'journal' | 'certificates' | 'chain';
export type ReplicaStatus = 'pending' | 'verified' | 'damaged' | 'missing';

/** One object's copy at one peer: the outbox entry while pending, the copy count once verified. */
export interface ReplicaTable {
  kind: ReplicaKind;
  /** The blob's SHA-256 (hex) or the period id. */
  object: string;
  peer: string;
  status: ReplicaStatus;
  revision: string | null;
  confirmed_hash: string | null;
  confirmed_at: string | null;
  attempts: Generated<number>;
  next_attempt_at: string;
  last_error: string | null;
  audited_at: string | null;
  audit_outcome: string | null;
  created_at: string;
  /** The detached signature sent with a signed document (framed with its bytes at the peer); null for blobs. */
  signature: Buffer | null;
}

/** How many verified copies a blob or sealed period has (kept with every change that alters it). */
export interface CopyCountTable {
  kind: 'blob' | 'period';
  object: string;
  copies: number;
  /** The blob's `created_at`, the period's `sealed_at`. */
  created_at: string;
}

/** How many objects of a kind have exactly `copies` verified copies. */
export interface CopyCountTotalTable {
  kind: 'blob' | 'period';
  copies: number;
  objects: number;
}

/** A replica row's state as the totals count it: its status, or `unreachable` (verified, last challenge unanswered). */
export type ReplicaState = ReplicaStatus | 'unreachable';

/** How many replica rows of a kind at a peer are in each state (kept with every change to a row). */
export interface ReplicaTotalTable {
  peer: string;
  kind: ReplicaKind;
  state: ReplicaState;
  replicas: number;
}

/** A copy this center holds for a peer (`origin`). */
export interface HeldCopyTable {
  origin: string;
  kind: ReplicaKind;
  object: string;
  size: number;
  received: number;
  sha256: string | null;
  complete: number;
  received_at: string;
  updated_at: string;
}

export type EventOutcome = 'success' | 'failure' | 'warning';

/** A PREMIS-style preservation event. */
export interface PreservationEventTable {
  id: Generated<number>;
  event_type: string;
  event_at: string;
  object_kind: 'blob' | 'period' | 'registration' | 'center' | 'journal' | 'certificates' | 'chain';
  object_id: string;
  copy: string | null;
  agent: string;
  outcome: EventOutcome;
  detail: string;
}

export interface AlarmTable {
  id: Generated<number>;
  kind: string;
  subject: string;
  message: string;
  raised_at: string;
  last_seen_at: string;
  count: number;
  cleared_at: string | null;
}

export interface DownloadTable {
  id: Generated<number>;
  registration_id: number;
  account_id: number;
  started_at: string;
  finished_at: string | null;
  outcome: 'started' | 'complete' | 'aborted' | 'digest-mismatch';
  bytes: Generated<number>;
}

export type VaultBlobRow = Selectable<VaultBlobTable>;
export type ReplicaRow = Selectable<ReplicaTable>;
export type HeldCopyRow = Selectable<HeldCopyTable>;
export type CopyCountRow = Selectable<CopyCountTable>;
export type PreservationEventRow = Selectable<PreservationEventTable>;
export type AlarmRow = Selectable<AlarmTable>;
export type DownloadRow = Selectable<DownloadTable>;
