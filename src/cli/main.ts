import { ConfigError } from '../config.js';
import { serve } from '../main.js';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './cli-error.js';
import { REGISTER_USAGE, registerCommand } from './register-command.js';
import { PRIVATE_UMASK } from '../durable-files.js';
import { EXPORT_USAGE, exportCommand } from './export-command.js';
import { KEYS_USAGE, keysCommand } from './keys-command.js';
import { RECOVER_USAGE, recoverCommand } from './recover-command.js';
import { certificateCommand, sealCommand, statusCommand, tokensCommand } from './simple-commands.js';
import { VERIFY_USAGE, verifyCommand } from './verify-command.js';
import { join } from 'node:path';
import { DEVELOPMENT_CERTS_DIR } from '../pki/dev-pki.js';

const USAGE = `archive-seal: electronic records registration and backup center

usage:
  archive-seal serve                      start the center (configured by environment, see README)
  ${REGISTER_USAGE.replace(/\n/g, '\n  ')}
  archive-seal seal                       close and seal the open period now
  archive-seal status ID [--json]         a registration's state, proof and root
  archive-seal certificate ID [--out FILE]  the registration's authenticity certificate
  ${VERIFY_USAGE.replace(/\n/g, '\n  ')}
  archive-seal tokens create --role admin|registrar|depositor --name NAME [--pseudonymous] [--data-dir DIR]   (a new account)
  archive-seal tokens create --account ID [--data-dir DIR]   (another token for account ID)
  ${EXPORT_USAGE}
  ${RECOVER_USAGE}
  ${KEYS_USAGE.replace(/\n/g, '\n  ')}

exit status: 0 ok, 1 failure, 2 bad usage`;

type Env = Readonly<Record<string, string | undefined>>;
const COMMANDS: Record<string, (args: string[], env: Env) => Promise<number>> = {
  register: registerCommand,
  seal: sealCommand,
  status: statusCommand,
  tokens: tokensCommand,
  serve: serveCommand,
  export: exportCommand,
  recover: recoverCommand,
  keys: keysCommand,
  certificate: certificateCommand,
  // Trusts the center's configured root unless --trust says otherwise (and says so in the report).
  verify: (args, env) => verifyCommand(args, () => join(env.ARCHIVE_SEAL_PKI_DIR ?? DEVELOPMENT_CERTS_DIR, 'root-ca.pem')),
};

/** Runs the CLI; resolves to the exit status. */
export async function runCli(argv: string[], env: Env): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE + '\n');
    return EXIT_OK;
  }
  if (!command) {
    // Bad usage: the usage goes where errors go, so a script's captured output stays clean.
    process.stderr.write(USAGE + '\n');
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
    if (err instanceof ConfigError) {
      process.stderr.write(`archive-seal ${command}: configuration error: ${err.message}\n`);
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
