/**
 * The limits on what a registrant may put into a record, in one place. Every record the center
 * accepts must be one it can canonicalize, certify, replicate and recover: the record is nested
 * inside a certificate (`content.record`), a period bundle and a journal segment
 * (`registrations[i].record`), each at most RECORD_WRAPPING_DEPTH levels deep, and all of them
 * go through the canonicalizer, which refuses anything nested deeper than MAX_JSON_DEPTH. So
 * metadata may nest at most MAX_METADATA_DEPTH levels, with room to spare. Width needs no limit
 * of its own: MAX_METADATA_BYTES bounds it.
 */

/**
 * Deepest nesting RFC 8785 canonicalization takes (and so any document the center signs or reads).
 * Far above what intake lets in, on purpose: centers before this limit took metadata nested up to
 * 64 levels, and their records must still go into certificates, bundles and journal segments.
 * Deep enough for all of that, shallow enough that no recursion over it can overflow a stack.
 */
export const MAX_JSON_DEPTH = 128;

/** Levels the documents that carry a record put around its metadata (segment → registrations → [i] → record → metadata). */
export const RECORD_WRAPPING_DEPTH = 4;

/**
 * Deepest nesting of a record's metadata: `{ "档号": "…" }` is 1 level, `{ "a": { "b": 1 } }` 2,
 * `{ "a": [1] }` 2. DA/T 46 metadata is flat or nearly; 32 leaves room for any structure a
 * digital archive room exports, and 32 + RECORD_WRAPPING_DEPTH stays far under MAX_JSON_DEPTH.
 */
export const MAX_METADATA_DEPTH = 32;

/** Metadata as canonical JSON (UTF-8 bytes). */
export const MAX_METADATA_BYTES = 16 * 1024;

/** A metadata key (characters). */
export const MAX_METADATA_KEY_LENGTH = 256;

/** A title or a file name (characters). */
export const MAX_TEXT_LENGTH = 1024;
