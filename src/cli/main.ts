import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, isCliError } from './cli-error.js';
import { PRIVATE_UMASK } from '../durable-files.js';

type Env = Readonly<Record<string, string | undefined>>;
type Run = (args: string[], env: Env) => Promise<number>;

// Each command's code (and its usage) is loaded when it runs or is asked for: the client commands (register, find, seal,
// status, certificate, categories, verify) must run where the server's modules cannot load
// (an install without the native SQLite driver, see package.json's optionalDependencies).
// The usage of the center's own commands lives with their code, so it is loaded for help only.
const SERVER_USAGE = {
  serve: async () => 'archive-seal serve\n  Starts the center, configured by the environment (README, Configuration).',
  tokens: async () =>
    'archive-seal tokens create --role admin|registrar|depositor --name NAME [--pseudonymous] [--data-dir DIR]   (a new account)\n' +
    'archive-seal tokens create --account ID [--data-dir DIR]   (another token for account ID)\n' +
    'archive-seal tokens list [--mine] [--json]\n' +
    'archive-seal tokens revoke ID\n' +
    '  create: issues a token straight into a center\'s database (running or not) and prints it once.\n' +
    '  list: your tokens on a running center (an admin\'s or auditor\'s: every token; --mine: only yours).\n' +
    '  revoke: the token stops working at once (yours, or of a user you manage).\n' +
    '  list, revoke: --server URL, --token T (or ARCHIVE_SEAL_SERVER, ARCHIVE_SEAL_TOKEN)',
  export: async () => (await import('./export-command.js')).EXPORT_USAGE,
  recover: async () => (await import('./recover-command.js')).RECOVER_USAGE,
  keys: async () => (await import('./keys-command.js')).KEYS_USAGE,
  db: async () => (await import('./db-command.js')).DB_USAGE,
};

const COMMANDS: Record<string, { usage: () => Promise<string>; run: () => Promise<Run> }> = {
  serve: { usage: SERVER_USAGE.serve, run: async () => serveCommand },
  register: { usage: async () => (await import('./register-command.js')).REGISTER_USAGE, run: async () => (await import('./register-command.js')).registerCommand },
  find: { usage: async () => (await import('./find-command.js')).FIND_USAGE, run: async () => (await import('./find-command.js')).findCommand },
  categories: { usage: async () => (await import('./categories-command.js')).CATEGORIES_USAGE, run: async () => (await import('./categories-command.js')).categoriesCommand },
  seal: {
    usage: async () => 'archive-seal seal [--json]\n  Closes and seals the open period now (staff).\n  --server URL, --token T (or ARCHIVE_SEAL_SERVER, ARCHIVE_SEAL_TOKEN)',
    run: async () => (await import('./simple-commands.js')).sealCommand,
  },
  status: {
    usage: async () => 'archive-seal status ID [--json]\n  A registration\'s state, digests, and once sealed its proof and root.\n  --server URL, --token T (or ARCHIVE_SEAL_SERVER, ARCHIVE_SEAL_TOKEN)',
    run: async () => (await import('./simple-commands.js')).statusCommand,
  },
  certificate: {
    usage: async () =>
      'archive-seal certificate ID [--out FILE]\n  The registration\'s authenticity certificate, once its period is anchored (JSON; to stdout without --out).\n  --server URL, --token T (or ARCHIVE_SEAL_SERVER, ARCHIVE_SEAL_TOKEN)',
    run: async () => (await import('./simple-commands.js')).certificateCommand,
  },
  verify: {
    usage: async () => (await import('./verify-usage.js')).VERIFY_USAGE,
    // Trusts nothing but the roots the user names (--trust, --center): see verify-command.ts.
    // The build bundles the command into one file with V8's code cache of a verification
    // (scripts/build-verify-cli.ts, verify-bundle-loader.ts): it loads and runs in a fraction of
    // the time of its module graph. Without it (run from src), the modules.
    run: async () => {
      const bundled = (await import('./verify-bundle-loader.js')).loadVerifyBundle();
      return bundled ? bundled.verifyCommand : (await import('./verify-command.js')).verifyCommand;
    },
  },
  tokens: { usage: SERVER_USAGE.tokens, run: async () => (await import('./simple-commands.js')).tokensCommand },
  units: { usage: async () => (await import('./units-command.js')).UNITS_USAGE, run: async () => (await import('./units-command.js')).unitsCommand },
  export: { usage: SERVER_USAGE.export, run: async () => (await import('./export-command.js')).exportCommand },
  recover: { usage: SERVER_USAGE.recover, run: async () => (await import('./recover-command.js')).recoverCommand },
  keys: { usage: SERVER_USAGE.keys, run: async () => (await import('./keys-command.js')).keysCommand },
  db: { usage: SERVER_USAGE.db, run: async () => (await import('./db-command.js')).dbCommand },
};

const HEADER = 'archive-seal: electronic records registration and backup center\n\nusage:';
const FOOTER = 'archive-seal COMMAND --help: one command\'s usage\nexit status: 0 ok, 1 failure, 2 bad usage; verify: 0 AUTHENTIC, 1 NOT AUTHENTIC, 3 CANNOT BE DETERMINED';

/** Every command's usage line(s); a command whose code cannot load here says so instead. */
async function fullUsage(): Promise<string> {
  const parts = await Promise.all(
    Object.entries(COMMANDS).map(async ([name, command]) => {
      try {
        const text = await command.usage();
        return text.split('\n').filter((l) => l.startsWith('archive-seal')).join('\n'); // the synopses
      } catch {
        return `archive-seal ${name}  (not in this installation: the center's own modules were left out, as npm install --omit=optional does)`;
      }
    }),
  );
  return `${HEADER}\n  ${parts.join('\n').replace(/\n/g, '\n  ')}\n\n${FOOTER}`;
}

/** --help or -h among the options (not after \`--\`, where it would be a file's name). */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  const options = end === -1 ? args : args.slice(0, end);
  return options.includes('--help') || options.includes('-h');
}

/** Runs the CLI; resolves to the exit status. */
export async function runCli(argv: string[], env: Env): Promise<number> {
  const [name, ...args] = argv;
  if (name === 'help' || name === '--help' || name === '-h') {
    const command = args[0] === undefined ? undefined : COMMANDS[args[0]];
    process.stdout.write((command ? await command.usage() : await fullUsage()) + '\n');
    return EXIT_OK;
  }
  if (!name) {
    // Bad usage: the usage goes where errors go, so a script's captured output stays clean.
    process.stderr.write((await fullUsage()) + '\n');
    return EXIT_USAGE;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`archive-seal: unknown command "${name}" (try archive-seal help)\n`);
    return EXIT_USAGE;
  }
  try {
    if (wantsHelp(args)) {
      process.stdout.write((await command.usage()) + '\n');
      return EXIT_OK;
    }
    return await (await command.run())(args, env);
  } catch (err) {
    if (isCliError(err)) {
      process.stderr.write(`archive-seal ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    if ((err as Error).name === 'ConfigError') {
      process.stderr.write(`archive-seal ${name}: configuration error: ${(err as Error).message}\n`);
      return EXIT_USAGE;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`archive-seal ${name}: ${(err as Error).message} (archive-seal ${name} --help)\n`);
      return EXIT_USAGE;
    }
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || /Could not locate the bindings file/.test((err as Error).message ?? '')) {
      // An installation without the optional (server) dependencies: say so, not a stack trace.
      process.stderr.write(
        `archive-seal ${name}: this installation lacks what the command needs (${(err as Error).message.split('\n')[0]}): install with the optional dependencies to run the center; the client commands (register, find, seal, status, certificate, categories, verify, units, tokens list|revoke) need none of them\n`,
      );
      return EXIT_FAILURE;
    }
    process.stderr.write(`archive-seal ${name}: ${(err as Error).message ?? String(err)}\n`);
    return EXIT_FAILURE;
  }
}

async function serveCommand(args: string[], env: Env): Promise<number> {
  if (args.length > 0) throw new CliError('serve takes no arguments; configure it with the environment (see README)', EXIT_USAGE);
  const { serve } = await import('../main.js');
  await serve(env);
  return EXIT_OK;
}

// Whatever the umask the center is started with (022 is common), what it and its children write
// (SQLite's WAL and SHM, the embedded chain's state) is private to its user; the code gives its
// own files private modes explicitly as well (src/durable-files.ts).
process.umask(PRIVATE_UMASK);
runCli(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`archive-seal: ${(err as Error).message}\n`);
    process.exit(EXIT_FAILURE);
  },
);
