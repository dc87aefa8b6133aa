import { serve, type ServerType } from '@hono/node-server';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { ensurePrivateDirectory, PRIVATE_FILE_MODE } from './durable-files.js';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { EvmAnchorChain, type AnchorChain } from './anchor/anchor-chain.js';
import { AnchoringService } from './anchor/anchoring-service.js';
import { setUpLocalChain } from './anchor/local-chain-setup.js';
import type { LocalChain } from './anchor/local-chain.js';
import { ConfigError, SETTINGS, type Config } from './config.js';
import { RECOVERY_STAGING_DIR } from './vault/disaster-recovery.js';
import { createApp } from './http/app.js';
import { connectionServerOptions, watchConnections, type ConnectionLimits } from './http/connection-limits.js';
import { loadCenterPki, type CenterPki } from './pki/center-pki.js';
import { readPkiSetSource } from './pki/key-management.js';
import { BuiltInTimestampAuthority, HttpTimestampAuthority, type TimestampAuthority } from './pki/timestamp-authority.js';
import { PeriodTimestamper } from './registry/period-timestamper.js';
import { PeriodRenewer } from './registry/period-renewer.js';
import { CertificateIssuer } from './registry/certificate-issuer.js';
import { CertificatePdfs } from './registry/certificate-pdfs.js';
import { pdfFontProblem } from './registry/pdf-fonts.js';
import { adminExists, issueToken, TokenAuthenticator } from './people/access-tokens.js';
import { SessionService } from './people/session-service.js';
import { TokenService } from './people/token-service.js';
import { UnitService } from './people/unit-service.js';
import { UserService } from './people/user-service.js';
import { PeriodSealer } from './registry/period-sealer.js';
import { RegistryCheck } from './registry/registry-check.js';
import { tsaPolicyOid } from './pki/tsa-policy.js';
import { RegistrationReader } from './registry/registration-reader.js';
import { RegistrationService } from './registry/registration-service.js';
import { SealScheduler } from './registry/seal-scheduler.js';
import { getCenterMeta, setCenterMeta } from './store/accounts-repository.js';
import { CenterDuties } from './center-duties.js';
import { redactDatabaseUrl } from './store/dialect.js';
import { DutiesLease } from './store/duties-lease.js';
import { Store } from './store/store.js';
import { setDefaultSignatureEngine } from './core/signature-engine.js';
import { nodeSignatureEngine } from './pki/node-signature-engine.js';
import { BackupService } from './vault/backup-service.js';

/** The center's parts, put together: what the HTTP server serves and the tests drive. */
export interface Center {
  app: ReturnType<typeof createApp>;
  store: Store;
  sealer: PeriodSealer;
  registrations: RegistrationService;
  reader: RegistrationReader;
  pki: CenterPki;
  timestamper: PeriodTimestamper;
  /** Evidence renewal of the periods' timestamps (RFC 4998 style). */
  renewer: PeriodRenewer;
  anchoring: AnchoringService;
  certificates: CertificateIssuer;
  /** The embedded local chain, when the center runs one. */
  localChain?: LocalChain;
  /** The vault, peers, replication, fixity audits and alarms. */
  backup: BackupService;
  /** Where the first admin token was written, when this start created it. */
  firstAdminTokenFile?: string;
  /** The background work, done by the one process holding the duties lease. */
  duties: CenterDuties;
  /** Waits for a running seal, then closes the database. */
  close(): Promise<void>;
}

/**
 * Opens the store (running migrations), finishes any seal a crash interrupted, makes the first
 * admin token if there is none, and builds the services and the HTTP app. Everything the
 * service is made of is put together here, and only here.
 */
export async function buildCenter(config: Config, log: (line: string) => void): Promise<Center> {
  await ensurePrivateDirectory(config.dataDir);
  const databaseFile = join(config.dataDir, 'archive-seal.sqlite');
  if (existsSync(join(config.dataDir, RECOVERY_STAGING_DIR)) && !existsSync(databaseFile)) {
    // A recovery still rebuilding the registry, or one killed at it: started here, the center
    // would be a new, empty one.
    throw new ConfigError(`${config.dataDir} holds an unfinished recovery: run \`archive-seal recover --from-peer URL --data-dir ${config.dataDir}\` again to finish it`);
  }
  const store = await Store.open({ file: databaseFile, url: config.databaseUrl, synchronous: config.sqliteSynchronous });
  if (store.engine === 'postgres') log(`registry on PostgreSQL ${redactDatabaseUrl(config.databaseUrl!)}`);
  let registrations: RegistrationService | undefined;
  let localChain: LocalChain | undefined;
  let backup: BackupService | undefined;
  let duties: CenterDuties | undefined;
  try {
    const pki = loadCenterPki(readPkiSetSource(config.pkiDir));
    if (pki.isDevelopment) log('using the DEVELOPMENT PKI: nothing this center signs is evidence (see certs/README.md)');
    else if (config.centerName === SETTINGS.centerName.default) {
      // Every certificate names its issuer: a real one must not say "not for evidence".
      throw new ConfigError(`${SETTINGS.centerName.env} is not set: the default name says "development center (not for evidence)", which certificates signed with a real PKI must not carry`);
    }
    if (!pki.isDevelopment && !config.publicUrl) {
      log(`warning: ${SETTINGS.publicUrl.env} is not set: the QR codes and links of certificate PDFs name the host each request gave (when it is a plain host name), else this server's own address; set it to the address the public reaches, e.g. https://records.example.gov.cn`);
    }
    // A real center must print every name it registers.
    const fontProblem = pdfFontProblem();
    if (fontProblem && !pki.isDevelopment) throw new ConfigError(fontProblem);
    if (fontProblem) log(`warning: ${fontProblem}; on the development PKI the center starts anyway and prints such characters as their code points (U+20BB7)`);
    backup = new BackupService({ config, store, pki, log });
    const policy = tsaPolicyOid(pki, config.tsaPolicyOid);
    if (policy.oid === null) throw new ConfigError(`${SETTINGS.tsaPolicyOid.env}: ${policy.problem}`);
    if (policy.source === 'derived') log(`built-in TSA policy ${policy.oid}, derived from the TSA certificate (set ${SETTINGS.tsaPolicyOid.env} to your own policy OID)`);
    const builtInTsa = new BuiltInTimestampAuthority({ identity: pki.tsa, policyOid: policy.oid });
    const tsa: TimestampAuthority = config.tsaUrl
      ? new HttpTimestampAuthority(config.tsaUrl, { trustRoots: await tsaTrustRoots(config, pki) })
      : builtInTsa;
    const timestamper = new PeriodTimestamper(store, tsa, config.tsaUrl ?? 'built-in', log);
    const renewer = new PeriodRenewer({
      store,
      tsa,
      authority: config.tsaUrl ?? 'built-in',
      renewBeforeMs: config.renewal.renewBeforeDays * 86_400_000,
      retiredAlgorithms: config.renewal.retiredAlgorithms,
      checkIntervalMs: config.renewal.checkIntervalMs,
      log,
    });

    const chains: AnchorChain[] = [];
    // The center's own chains: anchors on them prove nothing independent of it (certificates say so).
    const centerChains = new Set<string>();
    if (config.chains.kind === 'local') {
      const local = await setUpLocalChain({ dataDir: config.dataDir, port: config.chains.port, confirmations: config.chains.confirmations, log });
      localChain = local.chain;
      centerChains.add(local.settings.name);
      chains.push(new EvmAnchorChain(local.settings));
    } else if (config.chains.kind === 'configured') {
      for (const settings of config.chains.chains) chains.push(new EvmAnchorChain(settings));
    }
    const anchoring = new AnchoringService({ store, chains, log, resendAfterMs: config.anchorResendAfterMs });

    const reader = new RegistrationReader(store);
    registrations = await RegistrationService.start({
      store,
      reader,
      writer: {
        file: databaseFile,
        ...(config.databaseUrl !== undefined && { url: config.databaseUrl }),
        synchronous: config.sqliteSynchronous,
        centerId: config.centerId,
        pseudonymKey: centerSecret(store, 'pseudonym-key'),
        // The identity alone: the loaded certificates' X509Certificate objects stay here.
        receiptSigner: { certificateDer: pki.center.certificateDer, privateKey: pki.center.privateKey, chainDer: pki.center.chainDer },
      },
    });
    const sealer = new PeriodSealer({
      store,
      onSealed: () => {
        timestamper.nudge();
        anchoring.nudge();
      },
    });
    // The center's background work runs in one process at a time (several may serve one
    // PostgreSQL database): the one holding the duties lease.
    const lease = new DutiesLease(store);
    duties = new CenterDuties(lease, { pollMs: config.dutiesPollMs, log, ticks: store.engine === 'postgres' });
    const resumeSeals = async () => {
      for (const p of await sealer.resume()) log(`finished sealing period ${p.id}, interrupted before the last stop`);
    };
    const leadingAtStart = lease.tryAcquire();
    if (leadingAtStart) await resumeSeals();
    sealer.ensureOpenPeriod();
    // Before the app takes an upload and before replication starts: see removeInterruptedUploads.
    // Not while another process serves the same vault: its uploads in flight look like leftovers.
    const others = lease.otherProcesses();
    if (others === 0) await backup.removeInterruptedUploads();
    else log(`${others} other process(es) serve this database: the vault's start-up clean-up waits for a start with none`);

    let firstAdminTokenFile: string | undefined;
    if (!adminExists(store)) {
      const { token } = issueToken(store, { name: 'admin', role: 'admin' });
      firstAdminTokenFile = join(config.dataDir, 'admin-token.txt');
      await writeFile(firstAdminTokenFile, token + '\n', { mode: PRIVATE_FILE_MODE });
    }

    const certificates = new CertificateIssuer({
      store,
      reader,
      pki,
      center: { id: config.centerId, name: config.centerName },
      chains: () => anchoring.configuredChains.map((c) => c.settings.name),
      isCenterChain: (name) => centerChains.has(name),
    });
    // On PostgreSQL another process may revoke a token, end a session or suspend a user: nothing
    // is remembered across requests there, so that it holds at once in every process.
    const tokens = new TokenAuthenticator(store, store.engine === 'postgres' ? 0 : 30_000);
    // A change to who a principal is (a revoked token, a suspension, a new name) holds from the next request.
    const forget = () => tokens.forget();
    const app = createApp({
      store,
      tokens,
      units: new UnitService(store, config.regions, forget),
      users: new UserService(store, forget),
      sessions: new SessionService(store, forget),
      tokenService: new TokenService(store, forget),
      registrations,
      reader,
      sealer,
      anchoring,
      tsa: builtInTsa,
      pki,
      certificates,
      center: { id: config.centerId, name: config.centerName },
      publicUrl: config.publicUrl,
      certificatePdfs: new CertificatePdfs({ signer: pki.center, tsa, timeZone: config.timeZone, center: { id: config.centerId, name: config.centerName } }),
      blobs: backup.vault,
      backup,
      maxUploadBytes: config.maxUploadBytes,
      registryCheck: new RegistryCheck(store, config.centerId),
      ...(config.tsaUrl && config.tsaTrustFile && { timestampTrustRoots: [...pki.roots.map((r) => r.pem), ...(await tsaTrustRoots(config, pki))] }),
      log,
    });
    // Last: nothing after this can fail and leave these loops running on a closed database.
    const hasSealing = () => store.prepare("SELECT count(*) FROM period WHERE status = 'sealing'").pluck().get() !== 0;
    await duties.add({
      name: 'seals',
      start: () => (leadingAtStart ? undefined : resumeSeals()),
      stop: () => sealer.idle(),
      // A seal another process closed and could not finish (it died), finished here.
      tick: () => {
        if (hasSealing()) resumeSeals().catch(() => {});
      },
    });
    await duties.add({ name: 'timestamps', start: () => timestamper.start(), stop: () => timestamper.stop(), tick: () => timestamper.nudge() });
    await duties.add({ name: 'renewals', start: () => renewer.start(), stop: () => renewer.stop() });
    await duties.add({ name: 'anchoring', start: () => anchoring.start(), stop: () => anchoring.stop(), tick: () => anchoring.nudge() });
    await duties.begin();
    const centerDuties = duties;
    return {
      app,
      store,
      sealer,
      registrations,
      reader,
      pki,
      timestamper,
      renewer,
      anchoring,
      certificates,
      backup,
      ...(localChain && { localChain }),
      ...(firstAdminTokenFile && { firstAdminTokenFile }),
      duties: centerDuties,
      async close() {
        await centerDuties.end();
        await registrations!.close();
        await sealer.idle();
        await timestamper.stop();
        await renewer.stop();
        await anchoring.stop();
        await localChain?.stop();
        await backup!.stop();
        store.close();
      },
    };
  } catch (err) {
    await duties?.end();
    await registrations?.close();
    await localChain?.stop();
    await backup?.stop();
    store.close();
    throw err;
  }
}

export interface RunningServer {
  url: string;
  center: Center;
  close(): Promise<void>;
}

/** Builds the center, starts the seal schedule and listens on the configured host and port. */
export async function startServer(config: Config, log: (line: string) => void = console.log): Promise<RunningServer> {
  // Signatures and certificate paths are checked with node:crypto in this process (pkijs stays the browser's).
  setDefaultSignatureEngine(nodeSignatureEngine);
  const center = await buildCenter(config, log);
  let server: ServerType;
  try {
    server = await listen(center.app.fetch, config.host, config.port, config.connections);
  } catch (err) {
    await center.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const scheduler = new SealScheduler(center.sealer, config.sealSchedule, log);
  try {
    // The peer listener, replication, audits and the seal schedule: the lease holder's.
    await center.duties.add({
      name: 'backup',
      start: async () => {
        const { peerUrl } = await center.backup.start();
        if (peerUrl) log(`peer listener (mutual TLS) on ${peerUrl}`);
      },
      stop: () => center.backup.stop(),
    });
    await center.duties.add({
      name: 'seal schedule',
      start: () => scheduler.start(new Date(center.sealer.ensureOpenPeriod().opened_at)),
      stop: () => scheduler.stop(),
    });
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await center.close();
    throw err;
  }
  return {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    center,
    async close() {
      scheduler.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await center.close();
    },
  };
}

function listen(fetch: Parameters<typeof serve>[0]['fetch'], hostname: string, port: number, limits: ConnectionLimits): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port, serverOptions: connectionServerOptions(limits) }, () => resolve(server));
    watchConnections(server as Server, limits);
    server.once('error', reject);
  });
}

/** The roots an external TSA's tokens must chain to: its trust file, else the center's roots. */
async function tsaTrustRoots(config: Config, pki: CenterPki): Promise<string[]> {
  if (!config.tsaTrustFile) return pki.roots.map((r) => r.pem);
  return [await readFile(config.tsaTrustFile, 'utf8')];
}

/** A random secret kept in the database, made on first use (e.g. the pseudonym key). */
function centerSecret(store: Store, key: string): Buffer {
  let value = getCenterMeta(store, key);
  if (!value) {
    value = randomBytes(32).toString('hex');
    setCenterMeta(store, key, value);
  }
  return Buffer.from(value, 'hex');
}
