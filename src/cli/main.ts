import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './cli-error.js';

// Each command's module is loaded when that command runs, not before: `verify` must not pay for
// the server (hono, kysely, better-sqlite3, ethers), and the server not for the rest.

/** The usage of every command; loads every command's module (help only). */
async function usage(): Promise<string> {
  const [{ REGISTER_USAGE }, { VERIFY_USAGE }, { EXPORT_USAGE }, { RECOVER_USAGE }, { KEYS_USAGE }] = await Promise.all([
    import('./register-command.js'),
    import('./verify-command.js'),
    import('./export-command.js'),
    import('./recover-command.js'),
    import('./keys-command.js'),
  ]);
  return `archive-seal: electronic records registration and backup center

usage:
  archive-seal serve                      start the center (configured by environment, see README)
  ${REGISTER_USAGE.replace(/\n/g, '\n  ')}
  archive-seal seal                       close and seal the open period now
  archive-seal status ID [--json]         a registration's state, proof and root
  archive-seal certificate ID [--out FILE]  the registration's authenticity certificate
  ${VERIFY_USAGE.replace(/\n/g, '\n  ')}
  archive-seal tokens create --role admin|registrar|depositor --name NAME [--pseudonymous] [--data-dir DIR]
  ${EXPORT_USAGE}
  ${RECOVER_USAGE}
  ${KEYS_USAGE.replace(/\n/g, '\n  ')}

exit status: 0 ok, 1 failure, 2 bad usage; verify: 0 AUTHENTIC, 1 NOT AUTHENTIC, 3 CANNOT BE DETERMINED`;
}

type Env = Readonly<Record<string, string | undefined>>;
const COMMANDS: Record<string, (args: string[], env: Env) => Promise<number>> = {
  register: async (args, env) => (await import('./register-command.js')).registerCommand(args, env),
  seal: async (args, env) => (await import('./simple-commands.js')).sealCommand(args, env),
  status: async (args, env) => (await import('./simple-commands.js')).statusCommand(args, env),
  tokens: async (args, env) => (await import('./simple-commands.js')).tokensCommand(args, env),
  serve: serveCommand,
  export: async (args, env) => (await import('./export-command.js')).exportCommand(args, env),
  recover: async (args, env) => (await import('./recover-command.js')).recoverCommand(args, env),
  keys: async (args, env) => (await import('./keys-command.js')).keysCommand(args, env),
  certificate: async (args, env) => (await import('./simple-commands.js')).certificateCommand(args, env),
  // Trusts nothing but the roots the user names (--trust, --center): see verify-command.ts.
  verify: async (args) => (await import('./verify-command.js')).verifyCommand(args),
};

/** Runs the CLI; resolves to the exit status. */
export async function runCli(argv: string[], env: Env): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write((await usage()) + '\n');
    return EXIT_OK;
  }
  if (!command) {
    // Bad usage: the usage goes where errors go, so a script's captured output stays clean.
    process.stderr.write((await usage()) + '\n');
    return EXIT_USAGE;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`archive-seal: unknown command "${command}" (try archive-seal help)\n`);
    return EXIT_USAGE;
  }
  try {
    return await run(args, env);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`archive-seal ${command}: ${err.message}\n`);
      return err.exitCode;
    }
    // By name: importing config.ts here would load it for every command.
    if ((err as Error | undefined)?.name === 'ConfigError') {
      process.stderr.write(`archive-seal ${command}: configuration error: ${(err as Error).message}\n`);
      return EXIT_USAGE;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`archive-seal ${command}: ${(err as Error).message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`archive-seal ${command}: ${(err as Error).message ?? String(err)}\n`);
    return EXIT_FAILURE;
  }
}

async function serveCommand(args: string[], env: Env): Promise<number> {
  if (args.length > 0) throw new CliError('serve takes no arguments; configure it with the environment (see README)', EXIT_USAGE);
  const { serve } = await import('../main.js');
  await serve(env);
  return EXIT_OK;
}

runCli(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`archive-seal: ${(err as Error).message}\n`);
    process.exit(EXIT_FAILURE);
  },
);
