import type { EventOutcome, PreservationEventTable } from '../store/database.js';
import { clearAlarm, insertPreservationEvent, raiseAlarm } from '../store/preservation-repository.js';
import type { Store } from '../store/store.js';

/** PREMIS event types used here (Library of Congress preservation vocabulary, eventType). */
export type PreservationEventType = 'ingestion' | 'replication' | 'fixity check' | 'recovery' | 'dissemination' | 'deletion';

/** Alarm kinds: what staff must look at (`anchoring-failing` is the anchoring service's). */
export type AlarmKind = 'audit-failed' | 'copies-below-minimum' | 'low-disk' | 'replication-failing' | 'download-digest-mismatch' | 'peer-unreachable' | 'anchoring-failing';

/**
 * Records preservation events (PREMIS 3.0 event entity: type, date-time, object, the copy and
 * agent involved, outcome, detail) and raises and clears alarms, each also as a log line.
 */
export class PreservationLog {
  constructor(
    private readonly store: Store,
    private readonly log: (line: string) => void,
    private readonly agent: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  event(event: {
    type: PreservationEventType;
    objectKind: PreservationEventTable['object_kind'];
    objectId: string;
    copy?: string | null;
    agent?: string;
    outcome: EventOutcome;
    detail: string;
  }): void {
    insertPreservationEvent(this.store, {
      event_type: event.type,
      event_at: this.now().toISOString(),
      object_kind: event.objectKind,
      object_id: event.objectId,
      copy: event.copy ?? null,
      agent: event.agent ?? this.agent,
      outcome: event.outcome,
      detail: event.detail,
    });
    if (event.outcome === 'failure') this.log(`preservation: ${event.type} of ${event.objectKind} ${event.objectId}${event.copy ? ` (copy ${event.copy})` : ''} FAILED: ${event.detail}`);
  }

  /** Raises (or refreshes) an alarm; logs it when it is new. */
  raise(kind: AlarmKind, subject: string, message: string): void {
    if (raiseAlarm(this.store, { kind, subject, message, at: this.now().toISOString() })) this.log(`ALARM ${kind} [${subject}]: ${message}`);
  }

  clear(kind: AlarmKind, subject: string): void {
    if (clearAlarm(this.store, kind, subject, this.now().toISOString())) this.log(`alarm cleared: ${kind} [${subject}]`);
  }
}
