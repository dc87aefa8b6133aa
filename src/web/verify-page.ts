/**
 * The browser verifier (`/verify`): checks a file against its certificate with the same
 * `src/core` code as `archive-seal verify`, entirely in the browser. The file is hashed here,
 * slice by slice, and never sent anywhere; the only requests are for the certificate (when
 * given as a link) and to the blockchain nodes the user lists.
 */
import { findCategory } from '../core/categories.js';
import type { CertificateContent } from '../core/certificate.js';
import type { FileDigests } from '../core/digests.js';
import { certificateJsonFromPdf, looksLikePdf, PdfAttachmentError } from '../core/pdf-attachment.js';
import { verifyCertificate, type Verdict, type VerificationReport, type VerificationStepStatus } from '../core/verify-certificate.js';
import { CENTER_CONFIG_ELEMENT_ID, parseCenterConfig, type CenterConfig } from './center-config.js';
import { certificateUrlOf, certParam } from './certificate-link.js';
import { hashBlob } from './file-hashing.js';
import { localTime, STEP_NAMES, stepReason, stepRemedy, t, type Lang, type UiKey } from './messages.js';
import { rpcEndpoints, type RpcEndpointUse } from '../core/rpc-endpoints.js';
import { readTrustRoots, type TrustRoot } from './trust-roots.js';

declare const __ARCHIVE_SEAL_VERSION__: string;
const VERSION = typeof __ARCHIVE_SEAL_VERSION__ === 'string' ? __ARCHIVE_SEAL_VERSION__ : 'dev';

type Digests = FileDigests & { size: number };

interface FileState {
  file: File;
  started: number;
  hashing: Promise<Digests>;
  digests?: Digests;
  seconds?: number;
  error?: string;
  done: number;
}

interface CertificateState {
  value: unknown;
  source: string;
}

/** A finished verification: what the report shows, prints and saves. */
interface VerificationResult {
  report: VerificationReport;
  file: { name: string; size: number; sha256: string; sm3: string };
  certificateSource: string;
  rpc: RpcEndpointUse[];
  roots: TrustRoot[];
}

type Status = { key: UiKey; vars?: Record<string, string | number>; error?: boolean } | null;

const state: {
  lang: Lang;
  config: CenterConfig;
  roots: TrustRoot[];
  file?: FileState;
  cert?: CertificateState;
  result?: VerificationResult;
  status: Record<'file' | 'cert' | 'root' | 'verify', Status>;
} = {
  lang: 'zh',
  config: parseCenterConfig(document.getElementById(CENTER_CONFIG_ELEMENT_ID)?.textContent),
  roots: [],
  status: { file: null, cert: null, root: null, verify: null },
};

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page lacks #${id}`);
  return found as T;
}

/** A DOM element with text children only: nothing from a certificate is ever parsed as HTML. */
function h(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string | null | undefined)[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const isServed = /^https?:$/.test(location.protocol);

// ---------------------------------------------------------------- language and fixed text

function initialLang(): Lang {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'en' || asked === 'zh') return asked;
  try {
    const kept = localStorage.getItem('archive-seal-lang');
    if (kept === 'en' || kept === 'zh') return kept;
  } catch {
    // Storage may be off (private mode, file:// policies): Chinese by default.
  }
  return 'zh';
}

function renderAll(): void {
  const { lang } = state;
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = `${t('pageTitle', lang)} · Archive Seal`;
  for (const node of document.querySelectorAll<HTMLElement>('[data-t]')) {
    node.textContent = t(node.dataset.t as UiKey, lang);
  }
  const toggle = el('lang-toggle');
  toggle.textContent = t('langToggle', lang);
  toggle.lang = lang === 'zh' ? 'en' : 'zh-CN';
  toggle.setAttribute('aria-label', t('langToggleLabel', lang));
  const center = state.config.center;
  if (center) el('subtitle').textContent = t('subtitleOf', lang, { center: center.name });
  const offline = el('offline-note');
  offline.hidden = isServed || !state.config.origin;
  offline.textContent = state.config.origin ? t('offlineCopy', lang, { origin: state.config.origin }) : '';
  el('version').textContent = `Archive Seal ${VERSION} · archive-seal/certificate@1`;
  renderStatus();
  renderRoots();
  renderFile();
  renderCertificate();
  renderResult();
}

function renderStatus(): void {
  for (const [where, status] of Object.entries(state.status)) {
    const node = el(`${where}-status`);
    node.textContent = status ? t(status.key, state.lang, status.vars) : '';
    node.classList.toggle('error', status?.error === true);
  }
}

function setStatus(where: keyof typeof state.status, status: Status): void {
  state.status[where] = status;
  renderStatus();
}

// ---------------------------------------------------------------- the file

function formatBytes(n: number, lang: Lang): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const exact = t('bytes', lang, { n: n.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US') });
  return unit === 0 ? exact : `${value.toFixed(1)} ${units[unit]} (${exact})`;
}

let hashingAbort: AbortController | undefined;

function chooseFile(file: File): void {
  hashingAbort?.abort();
  const abort = (hashingAbort = new AbortController());
  const current: FileState = { file, started: performance.now(), done: 0, hashing: Promise.resolve() as unknown as Promise<Digests> };
  let lastPaint = 0;
  current.hashing = hashBlob(
    file,
    (done) => {
      current.done = done;
      const now = performance.now();
      if (now - lastPaint > 100 || done === file.size) {
        lastPaint = now;
        renderFileProgress();
      }
    },
    abort.signal,
  ).then(
    (digests) => {
      current.digests = digests;
      current.seconds = (performance.now() - current.started) / 1000;
      if (state.file === current) renderFile();
      return digests;
    },
    (err: unknown) => {
      current.error = (err as Error).message;
      if (state.file === current) renderFile();
      throw err;
    },
  );
  current.hashing.catch(() => {});
  state.file = current;
  state.result = undefined;
  renderFile();
  renderResult();
}

function renderFileProgress(): void {
  const f = state.file;
  const progress = el<HTMLProgressElement>('file-progress');
  if (!f || f.digests || f.error) {
    progress.hidden = true;
    return;
  }
  progress.hidden = false;
  progress.value = f.file.size === 0 ? 1 : f.done / f.file.size;
  progress.textContent = `${Math.round(progress.value * 100)}%`;
  setStatus('file', { key: 'fileHashing', vars: { done: formatBytes(f.done, state.lang), total: formatBytes(f.file.size, state.lang) } });
}

function renderFile(): void {
  const f = state.file;
  const facts = el('file-facts');
  facts.replaceChildren();
  facts.hidden = !f;
  if (!f) return;
  const { lang } = state;
  facts.append(
    h('dt', {}, t('fileName', lang)),
    h('dd', {}, f.file.name),
    h('dt', {}, t('fileSize', lang)),
    h('dd', {}, formatBytes(f.file.size, lang)),
  );
  if (f.digests) {
    facts.append(h('dt', {}, 'SHA-256'), h('dd', { class: 'mono', id: 'file-sha256' }, f.digests.sha256), h('dt', {}, 'SM3'), h('dd', { class: 'mono', id: 'file-sm3' }, f.digests.sm3));
    state.status.file = { key: 'fileHashed', vars: { seconds: (f.seconds ?? 0).toFixed(1) } };
  } else if (f.error) {
    state.status.file = { key: 'fileError', vars: { message: f.error }, error: true };
  }
  renderFileProgress();
  renderStatus();
}

// ---------------------------------------------------------------- the certificate

function certificateContent(value: unknown): CertificateContent | undefined {
  const content = (value as { content?: unknown } | null)?.content as CertificateContent | undefined;
  return typeof content === 'object' && content !== null && typeof content.record === 'object' && content.record !== null ? content : undefined;
}

function setCertificate(value: unknown, source: string): void {
  state.cert = { value, source };
  state.result = undefined;
  setStatus('cert', { key: 'certLoaded', vars: { source } });
  renderCertificate();
  renderResult();
}

function certificateError(message: string): void {
  setStatus('cert', { key: 'certError', vars: { message }, error: true });
}

function parseCertificateText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(t('certNotJson', state.lang));
  }
}

/** A certificate file: the JSON, or the center's PDF with the JSON attached (read by the same core code as the CLI). */
async function loadCertificateFile(file: File): Promise<void> {
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    let text: string;
    if (looksLikePdf(bytes)) {
      try {
        text = await certificateJsonFromPdf(bytes);
      } catch (err) {
        const code = err instanceof PdfAttachmentError ? err.code : 'PDF_UNREADABLE';
        throw new Error(code === 'PDF_NO_CERTIFICATE' ? t('certPdfNoAttachment', state.lang) : t('certPdfUnreadable', state.lang, { message: (err as Error).message }));
      }
    } else text = new TextDecoder().decode(bytes);
    setCertificate(parseCertificateText(text), file.name);
  } catch (err) {
    certificateError((err as Error).message);
  }
}

/** The base relative links resolve against: the page's own address, or for a saved copy the center's. */
function linkBase(): string | null {
  if (isServed) return location.href;
  return state.config.origin ? `${state.config.origin}/verify` : null;
}

async function loadCertificateLink(input: string): Promise<void> {
  const text = input.trim();
  if (text.startsWith('{')) {
    try {
      setCertificate(parseCertificateText(text), t('certLinkLabel', state.lang));
    } catch (err) {
      certificateError((err as Error).message);
    }
    return;
  }
  const url = certificateUrlOf(text, linkBase());
  if (!url) {
    certificateError(t(!isServed && !state.config.origin && !/^[a-z]+:/i.test(text) ? 'certLinkNeedsCenter' : 'certBadLink', state.lang));
    return;
  }
  setStatus('cert', { key: 'certLoading', vars: { url: url.href } });
  try {
    const response = await fetch(url.href, { headers: { accept: 'application/json' }, credentials: 'omit' });
    if (!response.ok) throw new Error(t('certHttp', state.lang, { status: response.status }));
    setCertificate(parseCertificateText(await response.text()), url.href);
  } catch (err) {
    certificateError((err as Error).message);
  }
}

function registrantText(content: CertificateContent): string {
  const r = content.record.registrant as { id?: string; name?: string; pseudonym?: string } | undefined;
  if (!r) return '';
  return r.pseudonym ?? `${r.name ?? ''} (${r.id ?? ''})`;
}

function renderCertificate(): void {
  const facts = el('cert-facts');
  facts.replaceChildren();
  const content = state.cert && certificateContent(state.cert.value);
  facts.hidden = !content;
  if (!content) return;
  const { lang } = state;
  const r = content.record;
  const category = typeof r.category === 'string' ? findCategory(r.category) : undefined;
  const rows: [string, string, string?][] = [
    [t('fileName', lang), String(r.fileName ?? '—')],
    [t('registration', lang), `${r.registrationId} · ${r.center}`],
    [t('registeredAt', lang), localTime(String(r.registeredAt), lang)],
    [t('registrant', lang), registrantText(content)],
    [t('category', lang), category ? category[lang] : String(r.category)],
    [t('issuer', lang), `${content.issuer?.name ?? ''}`],
    [t('recordedSha256', lang), String(r.digests?.sha256 ?? ''), 'mono'],
  ];
  for (const [label, value, cls] of rows) facts.append(h('dt', {}, label), h('dd', cls ? { class: cls } : {}, value));
}

// ---------------------------------------------------------------- trust roots and RPC

function addRoots(pemText: string, source: TrustRoot['source']): TrustRoot[] {
  const added = readTrustRoots(pemText, source).filter((r) => !state.roots.some((known) => known.sha256 === r.sha256));
  state.roots.push(...added);
  renderRoots();
  return added;
}

function addUserRoots(pemText: string): void {
  try {
    const added = addRoots(pemText, 'user');
    setStatus('root', { key: 'rootAdded', vars: { subject: added.map((r) => r.subject).join('; ') || '—' } });
    state.result = undefined;
    renderResult();
  } catch (err) {
    setStatus('root', { key: 'rootError', vars: { message: (err as Error).message }, error: true });
  }
}

function renderRoots(): void {
  const list = el('root-list');
  list.replaceChildren();
  const { lang } = state;
  if (state.roots.length === 0) list.append(h('li', {}, t('rootsNone', lang)));
  for (const root of state.roots) {
    const tags = [t(root.source === 'center' ? 'rootFromCenter' : 'rootFromUser', lang), ...(root.isDevelopment ? [t('rootDevelopment', lang)] : [])];
    const remove = h('button', { type: 'button', 'aria-label': t('rootRemoveLabel', lang, { subject: root.subject }) }, t('rootRemove', lang));
    remove.addEventListener('click', () => {
      state.roots = state.roots.filter((r) => r !== root);
      state.result = undefined;
      renderRoots();
      renderResult();
      el('root-file').focus();
    });
    list.append(
      h('li', {}, h('div', {}, h('strong', {}, root.subject), h('br'), h('span', { class: 'mono' }, `SHA-256 ${root.sha256}`), h('br'), h('span', { class: 'hint' }, tags.join(' · '))), remove),
    );
  }
}

function rpcUrls(): string[] {
  return el<HTMLTextAreaElement>('rpc-urls')
    .value.split(/\s+/)
    .map((u) => u.trim())
    .filter((u) => u !== '');
}

// ---------------------------------------------------------------- verification

let running = false;

async function runVerification(): Promise<void> {
  if (running) return;
  if (!state.file) {
    setStatus('verify', { key: 'needFile', error: true });
    el('file-input').focus();
    return;
  }
  if (!state.cert) {
    setStatus('verify', { key: 'needCert', error: true });
    el('cert-input').focus();
    return;
  }
  running = true;
  const button = el<HTMLButtonElement>('verify-button');
  button.disabled = true;
  setStatus('verify', { key: 'verifying' });
  try {
    const fileState = state.file;
    const cert = state.cert;
    const digests = await fileState.hashing;
    const anchors = certificateContent(cert.value)?.anchors;
    const chainIds = Array.isArray(anchors) ? anchors.map((a) => a?.chainId).filter((id): id is number => typeof id === 'number') : [];
    const { rpc, uses } = await rpcEndpoints(rpcUrls(), chainIds, (input, init) => fetch(input, init));
    const roots = [...state.roots];
    const tsaRoots = state.config.timestampTrustRoots;
    const report = await verifyCertificate({
      certificate: cert.value,
      file: { sha256: digests.sha256, sm3: digests.sm3 },
      trustRoots: roots.map((r) => r.pem),
      ...(tsaRoots && { timestampTrustRoots: [...roots.map((r) => r.pem), ...tsaRoots] }),
      rpc,
    });
    state.result = {
      report,
      file: { name: fileState.file.name, size: digests.size, sha256: digests.sha256, sm3: digests.sm3 },
      certificateSource: cert.source,
      rpc: uses,
      roots,
    };
    setStatus('verify', null);
    renderResult();
    el('result-heading').focus();
  } catch (err) {
    setStatus('verify', { key: 'fileError', vars: { message: (err as Error).message }, error: true });
  } finally {
    running = false;
    button.disabled = false;
  }
}

const VERDICT_KEY: Readonly<Record<Verdict, UiKey>> = { AUTHENTIC: 'authentic', NOT_AUTHENTIC: 'notAuthentic', CANNOT_BE_DETERMINED: 'undetermined' };
const VERDICT_CLASS: Readonly<Record<Verdict, string>> = { AUTHENTIC: 'authentic', NOT_AUTHENTIC: 'not-authentic', CANNOT_BE_DETERMINED: 'undetermined' };
const STATUS_KEY: Readonly<Record<VerificationStepStatus, UiKey>> = { ok: 'statusOk', failed: 'statusFailed', skipped: 'statusSkipped', undetermined: 'statusUndetermined' };

function stepList(names: string[], lang: Lang): string {
  return names.join(lang === 'zh' ? '、' : ', ');
}

function renderResult(): void {
  const section = el('result');
  const result = state.result;
  section.hidden = !result;
  if (!result) return;
  const { lang } = state;
  const { report } = result;
  const content = certificateContent(state.cert?.value);
  const failed = report.steps.filter((s) => s.status === 'failed');
  const skipped = report.steps.filter((s) => s.status === 'skipped');
  const undetermined = report.steps.filter((s) => s.status === 'undetermined');
  // A report from before the three verdicts has only `authentic`.
  const verdict = report.verdict ?? (report.authentic ? 'AUTHENTIC' : 'NOT_AUTHENTIC');
  const name = (step: string) => STEP_NAMES[step as keyof typeof STEP_NAMES]?.[lang] ?? step;

  const summary = el('summary');
  summary.className = `summary ${VERDICT_CLASS[verdict]}`;
  summary.dataset.verdict = verdict;
  summary.replaceChildren(h('p', { class: 'verdict', id: 'verdict' }, t(VERDICT_KEY[verdict], lang)));
  if (verdict === 'AUTHENTIC' && content) {
    summary.append(
      h('p', {}, t('authenticDetail', lang, { center: content.issuer?.name ?? content.record.center, registeredAt: localTime(content.record.registeredAt, lang), id: content.record.registrationId })),
    );
  }
  if (failed.length > 0) summary.append(h('p', { id: 'failed-steps' }, t('failedList', lang, { steps: stepList([...new Set(failed.map((s) => name(s.step)))], lang) })));
  if (undetermined.length > 0) summary.append(h('p', { id: 'undetermined-steps' }, t('undeterminedList', lang, { steps: stepList([...new Set(undetermined.map((s) => name(s.step)))], lang) })));
  summary.append(
    h(
      'p',
      { id: 'not-checked' },
      skipped.length > 0 ? t('notChecked', lang, { steps: stepList([...new Set(skipped.map((s) => name(s.step)))], lang) }) : undetermined.length > 0 ? '' : t('allChecked', lang),
    ),
  );
  // What to do, once per distinct advice, in the summary where it is seen first.
  const todo = [...new Set([...undetermined, ...skipped].map((s) => stepRemedy(s, lang, content)).filter((r): r is string => r !== undefined))];
  if (verdict === 'CANNOT_BE_DETERMINED' && todo.length > 0) {
    summary.append(h('div', { id: 'what-to-do' }, h('strong', {}, t('whatToDo', lang)), h('ul', {}, ...todo.map((r) => h('li', {}, r)))));
  }
  // The root's fingerprint in plain text: the reader compares it with the center's public notice.
  for (const root of result.roots) summary.append(h('p', { class: 'fingerprint' }, t('rootFingerprint', lang, { subject: root.subject, sha256: root.sha256 })));
  if (content?.issuer?.development === true || report.notes.some((n) => /DEVELOPMENT/.test(n))) {
    summary.append(h('p', { class: 'warning' }, t('developmentWarning', lang)));
  }

  const steps = el('steps');
  steps.replaceChildren();
  for (const step of report.steps) {
    const badge = t(STATUS_KEY[step.status], lang);
    const remedy = stepRemedy(step, lang, content);
    steps.append(
      h(
        'li',
        { class: step.status, 'data-step': step.step, 'data-status': step.status, 'data-code': step.code },
        h('p', {}, h('span', { class: 'badge' }, badge), h('strong', {}, name(step.step))),
        h('p', { class: 'reason' }, stepReason(step, content, lang)),
        remedy ? h('p', { class: 'remedy' }, h('strong', {}, t('whatToDo', lang)), remedy) : null,
        h('details', {}, h('summary', {}, t('technical', lang)), h('p', { class: 'mono' }, `${step.code}: ${step.message}`)),
      ),
    );
  }

  const facts = el('report-facts');
  facts.replaceChildren();
  const add = (label: string, ...values: (Node | string)[]) => facts.append(h('dt', {}, label), h('dd', {}, ...values));
  add(t('reportCheckedAt', lang), localTime(report.checkedAt, lang));
  add(t('reportFile', lang), `${result.file.name} · ${formatBytes(result.file.size, lang)}`, h('br'), h('span', { class: 'mono' }, `SHA-256 ${result.file.sha256}`), h('br'), h('span', { class: 'mono' }, `SM3 ${result.file.sm3}`));
  add(t('reportCertificate', lang), result.certificateSource, ...(report.subject ? [h('br'), `${t('registration', lang)} ${report.subject.registrationId} · ${report.subject.center}`] : []));
  add(
    t('reportRpc', lang),
    ...(result.rpc.length === 0
      ? [t('reportRpcNone', lang)]
      : result.rpc.flatMap((u, i) => [
          ...(i > 0 ? [h('br')] : []),
          `${u.url} — ${u.chainId !== null ? t('reportRpcChain', lang, { chainId: u.chainId }) : t('reportRpcProblem', lang, { problem: u.problem ?? '' })}`,
        ])),
  );
  add(
    t('reportRoots', lang),
    ...(result.roots.length === 0
      ? ['—']
      : result.roots.flatMap((r, i) => [...(i > 0 ? [h('br')] : []), `${r.subject} (${t(r.source === 'center' ? 'rootFromCenter' : 'rootFromUser', lang)})`, h('br'), h('span', { class: 'mono' }, `SHA-256 ${r.sha256}`)])),
  );
  add(t('reportVerifier', lang), t('reportVerifierText', lang, { version: VERSION }));
}

/** The report as saved JSON: the core's report and everything it was checked with. */
function savedReport(result: VerificationResult) {
  return {
    format: 'archive-seal/browser-verification@1',
    verifier: `Archive Seal browser verifier ${VERSION}`,
    report: result.report,
    file: result.file,
    certificate: { source: result.certificateSource },
    rpc: result.rpc,
    trustRoots: result.roots.map((r) => ({ subject: r.subject, sha256: r.sha256, source: r.source, pem: r.pem })),
  };
}

/** The report as plain text, in the page's language. */
function reportText(result: VerificationResult, lang: Lang): string {
  const { report } = result;
  const content = certificateContent(state.cert?.value);
  const status = (s: VerificationStepStatus) => t(STATUS_KEY[s], lang);
  const verdict = report.verdict ?? (report.authentic ? 'AUTHENTIC' : 'NOT_AUTHENTIC');
  const lines = [
    `${t('reportHeading', lang)} — Archive Seal`,
    '',
    t(VERDICT_KEY[verdict], lang),
    '',
    ...report.steps.flatMap((s) => {
      const remedy = stepRemedy(s, lang, content);
      return [`[${status(s.status)}] ${STEP_NAMES[s.step][lang]}: ${stepReason(s, content, lang)}`, ...(remedy ? [`    ${t('whatToDo', lang)}${remedy}`] : []), `    ${s.code}: ${s.message}`];
    }),
    '',
    `${t('reportCheckedAt', lang)}: ${localTime(report.checkedAt, lang)}`,
    `${t('reportFile', lang)}: ${result.file.name} (${result.file.size} bytes)`,
    `    SHA-256 ${result.file.sha256}`,
    `    SM3     ${result.file.sm3}`,
    `${t('reportCertificate', lang)}: ${result.certificateSource}`,
    `${t('reportRpc', lang)}: ${result.rpc.length === 0 ? t('reportRpcNone', lang) : ''}`,
    ...result.rpc.map((u) => `    ${u.url} — ${u.chainId !== null ? t('reportRpcChain', lang, { chainId: u.chainId }) : t('reportRpcProblem', lang, { problem: u.problem ?? '' })}`),
    `${t('reportRoots', lang)}:`,
    ...result.roots.map((r) => `    ${r.subject} — SHA-256 ${r.sha256}`),
    ...report.notes.map((n) => `note: ${n}`),
    `${t('reportVerifier', lang)}: ${t('reportVerifierText', lang, { version: VERSION })}`,
  ];
  return lines.join('\n') + '\n';
}

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function reportFileName(result: VerificationResult, ext: string): string {
  const id = result.report.subject?.registrationId ?? 'unknown';
  return `verification-${id}-${result.report.checkedAt.replace(/[:.]/g, '-')}.${ext}`;
}

// ---------------------------------------------------------------- wiring

function onDrop(zoneId: string, accept: (file: File) => void): void {
  const zone = el(zoneId);
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) accept(file);
  });
}

function start(): void {
  state.lang = initialLang();
  for (const pem of state.config.trustRoots) {
    try {
      addRoots(pem, 'center');
    } catch {
      // A root the page cannot read is left out; the list shows what is trusted.
    }
  }
  el<HTMLTextAreaElement>('rpc-urls').value = state.config.chains.map((c) => c.rpcUrl).join('\n');
  el('download-wrap').hidden = !isServed || !state.config.center;

  el('lang-toggle').addEventListener('click', () => {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    try {
      localStorage.setItem('archive-seal-lang', state.lang);
    } catch {
      // Not kept: the choice holds for this visit.
    }
    renderAll();
  });
  const fileInput = el<HTMLInputElement>('file-input');
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (file) chooseFile(file);
  });
  onDrop('file-drop', chooseFile);
  const certInput = el<HTMLInputElement>('cert-input');
  certInput.addEventListener('change', () => {
    const file = certInput.files?.[0];
    if (file) void loadCertificateFile(file);
  });
  onDrop('cert-drop', (file) => void loadCertificateFile(file));
  const link = el<HTMLInputElement>('cert-link');
  el('cert-load').addEventListener('click', () => void loadCertificateLink(link.value));
  link.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') void loadCertificateLink(link.value);
  });
  const rootFile = el<HTMLInputElement>('root-file');
  rootFile.addEventListener('change', async () => {
    const file = rootFile.files?.[0];
    if (file) addUserRoots(await file.text());
  });
  el('root-add').addEventListener('click', () => addUserRoots(el<HTMLTextAreaElement>('root-text').value));
  el('rpc-urls').addEventListener('input', () => {
    state.result = undefined;
    renderResult();
  });
  el('verify-button').addEventListener('click', () => void runVerification());
  el('print-report').addEventListener('click', () => window.print());
  window.addEventListener('beforeprint', () => {
    for (const d of document.querySelectorAll<HTMLDetailsElement>('#steps details')) d.open = true;
  });
  el('save-json').addEventListener('click', () => {
    if (state.result) download(reportFileName(state.result, 'json'), 'application/json', JSON.stringify(savedReport(state.result), null, 2) + '\n');
  });
  el('save-text').addEventListener('click', () => {
    if (state.result) download(reportFileName(state.result, 'txt'), 'text/plain;charset=utf-8', reportText(state.result, state.lang));
  });
  // Dropping a file outside the boxes must not navigate away from the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());

  renderAll();
  document.body.dataset.ready = 'true';

  const prefill = certParam(new URL(location.href));
  if (prefill !== undefined) {
    link.value = prefill;
    void loadCertificateLink(prefill);
  }
}

start();
