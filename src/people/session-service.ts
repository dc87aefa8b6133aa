import { randomBytes } from 'node:crypto';
import type { Principal } from '../registry/principal.js';
import type { Store } from '../store/store.js';
import { endSession, findUserByUsername, findUserWithAccount, insertSession, updateUser } from '../store/users-repository.js';
import { isUsable, principalOf, tokenHash } from './access-tokens.js';
import { unknownUserHash, verifyPassword } from './passwords.js';
import { PeopleError, validatePeople } from './people-error.js';

/** After this many wrong passwords in a row, the user is locked out for LOCK_MS. */
export const MAX_FAILED_LOGINS = 5;
export const LOCK_MS = 15 * 60 * 1000;
/** A session lasts this long from sign-in (then sign in again). */
export const SESSION_MS = 12 * 3600 * 1000;

export interface StartedSession {
  /** The cookie's value: shown once, stored only as its SHA-256. */
  sessionId: string;
  expiresAt: string;
  principal: Principal;
}

/**
 * Sign-in with a username and password, and sign-out. Wrong passwords are counted: the fifth in a
 * row locks the user for 15 minutes (ACCOUNT_LOCKED, even with the right password), after which
 * the count starts again. An unknown username costs the same scrypt work as a known one.
 */
export class SessionService {
  constructor(
    private readonly store: Store,
    /** Called when a sign-out or lock must hold at once for cached credentials. */
    private readonly onChange: () => void = () => {},
  ) {}

  async login(body: unknown, now: () => Date = () => new Date()): Promise<StartedSession> {
    validatePeople(typeof body === 'object' && body !== null && !Array.isArray(body), 'INVALID_INPUT', 'send { "username": "…", "password": "…" }');
    const { username, password, ...rest } = body as Record<string, unknown>;
    validatePeople(Object.keys(rest).length === 0, 'INVALID_INPUT', `${Object.keys(rest)[0]} is not a sign-in field; send username and password`);
    validatePeople(typeof username === 'string' && typeof password === 'string' && username.length <= 64 && password.length <= 1024, 'INVALID_INPUT', 'send { "username": "…", "password": "…" }');
    const wrong = () => new PeopleError('INVALID_CREDENTIALS', 'the username or password is wrong');

    const user = findUserByUsername(this.store, username);
    if (!user || user.password_hash === null) {
      await verifyPassword(password, await unknownUserHash());
      throw wrong();
    }
    this.refuseIfLocked(user.locked_until, now());
    const matches = await verifyPassword(password, user.password_hash);
    // Counted after the (asynchronous) hash, in one transaction: concurrent guesses all count.
    // The transaction returns what happened and commits it; the refusal is thrown after the
    // commit (thrown inside, it would roll the count back with it).
    const outcome = this.store.transaction((): { kind: 'wrong' } | { kind: 'locked'; until: string } | { kind: 'ok'; session: StartedSession } => {
      const at = now();
      const current = findUserWithAccount(this.store, user.id);
      if (!current) return { kind: 'wrong' };
      this.refuseIfLocked(current.user.locked_until, at);
      if (!matches) {
        const failed = current.user.failed_logins + 1;
        if (failed >= MAX_FAILED_LOGINS) {
          const until = new Date(at.getTime() + LOCK_MS).toISOString();
          updateUser(this.store, user.id, { failed_logins: 0, locked_until: until });
          return { kind: 'locked', until };
        }
        updateUser(this.store, user.id, { failed_logins: failed });
        return { kind: 'wrong' };
      }
      if (!isUsable(current)) throw new PeopleError('FORBIDDEN', `${username} is suspended (or its unit is): ask the center's staff`);
      updateUser(this.store, user.id, { failed_logins: 0, locked_until: null });
      const sessionId = randomBytes(32).toString('base64url');
      const expiresAt = new Date(at.getTime() + SESSION_MS).toISOString();
      insertSession(this.store, { sessionHash: tokenHash(sessionId), userId: user.id, createdAt: at.toISOString(), expiresAt });
      return { kind: 'ok', session: { sessionId, expiresAt, principal: principalOf(current) } };
    });
    if (outcome.kind === 'wrong') throw wrong();
    if (outcome.kind === 'locked') {
      this.onChange();
      throw new PeopleError('ACCOUNT_LOCKED', `${MAX_FAILED_LOGINS} wrong passwords in a row: ${username} is locked until ${outcome.until}`, { retryAfterSeconds: Math.ceil(LOCK_MS / 1000) });
    }
    return outcome.session;
  }

  /** Ends the session whose cookie carries `sessionId`; true when it was live. */
  logout(sessionId: string, now: Date = new Date()): boolean {
    const ended = endSession(this.store, tokenHash(sessionId), now.toISOString());
    this.onChange();
    return ended;
  }

  private refuseIfLocked(lockedUntil: string | null, now: Date): void {
    if (lockedUntil === null) return;
    const left = Date.parse(lockedUntil) - now.getTime();
    if (left > 0) {
      throw new PeopleError('ACCOUNT_LOCKED', `too many wrong passwords: this user is locked until ${lockedUntil}`, { retryAfterSeconds: Math.ceil(left / 1000) });
    }
  }
}
