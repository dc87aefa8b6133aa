/** Exit statuses of the `archive-seal` command. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** `verify`: the verdict is CANNOT BE DETERMINED (a check could not run, or proves nothing). */
export const EXIT_UNDETERMINED = 3;

/** A failure the CLI reports as one line and an exit status (2 for usage, 1 otherwise). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: typeof EXIT_FAILURE | typeof EXIT_USAGE = EXIT_FAILURE,
  ) {
    super(message);
  }
}

/**
 * A CliError, also one thrown by the bundled `verify` (dist/cli/verify-bundle.cjs carries its own
 * copy of this class, so `instanceof` alone would miss it and report a usage error as exit 1).
 */
export function isCliError(err: unknown): err is CliError {
  return err instanceof CliError || (err instanceof Error && err.name === 'CliError' && typeof (err as { exitCode?: unknown }).exitCode === 'number');
}

/** A usage error: bad flags, missing arguments, unreadable input files. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

/**
 * Why a file could not be read, for people: `permission denied (EACCES)`. Node's own message
 * repeats the system call and the path, which the CLI already names.
 */
export function describeFileError(err: unknown): string {
  const { code, message } = (err ?? {}) as NodeJS.ErrnoException;
  const reason = code ? new RegExp(`^${code}: ([^,]+)`).exec(message ?? '')?.[1] : undefined;
  return reason ? `${reason} (${code})` : (message ?? String(err));
}
