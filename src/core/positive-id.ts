/**
 * A registration or period id written as text (a path parameter, a command-line argument): a
 * positive safe integer without a sign or leading zeros; `undefined` for anything else, so an id
 * too large for a JavaScript number is refused rather than rounded to another one.
 */
export function parsePositiveId(text: string): number | undefined {
  const id = Number(text);
  return /^[1-9]\d*$/.test(text) && Number.isSafeInteger(id) ? id : undefined;
}

/** The range `parsePositiveId` accepts, for usage messages. */
export const POSITIVE_ID_RANGE = `a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`;
