import { loadConfig } from './config.js';
import { startServer } from './server.js';

/**
 * The service (`npm start`, `archive-seal serve`): configuration from the environment, then
 * the composition in `startServer`; runs until SIGINT or SIGTERM, then stops cleanly.
 */
export async function serve(env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const config = loadConfig(env);
  const server = await startServer(config);
  console.log(`archive-seal listening on ${server.url} (data in ${config.dataDir})`);
  if (server.center.firstAdminTokenFile) {
    console.log(`first admin token written to ${server.center.firstAdminTokenFile} (keep it secret)`);
  } else {
    console.log('more tokens: npx archive-seal tokens create --role admin|registrar|depositor --name NAME');
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      console.log(`${signal}: stopping`);
      void server.close().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
