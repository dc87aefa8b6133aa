/**
 * A registration or period id given on the command line: a positive safe integer written
 * without a sign or leading zeros, as the API's ids are; `undefined` for anything else (so an id
 * too large for a JavaScript number is a usage error here, not rounded nor sent to the center).
 */
export function parsePositiveId(text: string): number | undefined {
  const id = Number(text);
  return /^[1-9]\d*$/.test(text) && Number.isSafeInteger(id) ? id : undefined;
}

/** The range `parsePositiveId` accepts, for usage messages. */
export const POSITIVE_ID_RANGE = `a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`;
