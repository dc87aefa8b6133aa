import { userTextProblem, type UserTextOptions } from '../core/user-text.js';
import { RegistryError } from './registry-error.js';

/**
 * `value` when it is text the center accepts for `field` (the rule: src/core/user-text.ts);
 * otherwise a RegistryError INVALID_TEXT (400) whose message names the field and the character.
 */
export function checkUserText(value: unknown, field: string, options: UserTextOptions): string {
  const problem = userTextProblem(value, field, options);
  if (problem !== undefined) throw new RegistryError('INVALID_TEXT', problem);
  return value as string;
}
