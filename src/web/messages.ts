import type { CertificateContent } from '../core/certificate.js';
import type { VerificationStep, VerificationStepName } from '../core/verify-certificate.js';

/** The page's languages: Chinese by default, English on request. */
export type Lang = 'zh' | 'en';

type Text = Readonly<Record<Lang, string>>;

/** Fixed texts of the page, by key; `{name}` marks a value filled in at run time. */
export const UI = {
  pageTitle: { zh: '电子文件真实性核验', en: 'Verify an electronic record' },
  subtitle: { zh: '电子文件和数字档案登记备份中心', en: 'Electronic records registration and backup center' },
  subtitleOf: { zh: '{center} · 电子文件和数字档案登记备份中心', en: '{center} · electronic records registration and backup center' },
  skip: { zh: '跳到主要内容', en: 'Skip to the main content' },
  langToggle: { zh: 'English', en: '中文' },
  langToggleLabel: { zh: 'Switch to English', en: '切换到中文' },
  privacy: {
    zh: '您的文件只在本浏览器中计算摘要（SHA-256、SM3），不会上传到登记中心或任何地方。核验只需证书和区块链节点的公开数据。',
    en: 'Your file is hashed (SHA-256, SM3) in this browser only; it is never uploaded, to the center or anywhere else. Verification needs only the certificate and public data from a blockchain node.',
  },
  fileHeading: { zh: '1. 要核验的文件', en: '1. The file to check' },
  fileLabel: { zh: '选择文件，或把文件拖放到此框内', en: 'Choose the file, or drop it into this box' },
  fileHashing: { zh: '正在本地计算摘要：{done} / {total}', en: 'Hashing locally: {done} of {total}' },
  fileHashed: { zh: '已在本地计算摘要（{seconds} 秒），文件未上传。', en: 'Hashed locally in {seconds} s; the file was not uploaded.' },
  fileError: { zh: '无法读取该文件：{message}', en: 'Cannot read the file: {message}' },
  fileName: { zh: '文件名', en: 'File name' },
  fileSize: { zh: '大小', en: 'Size' },
  bytes: { zh: '{n} 字节', en: '{n} bytes' },
  certHeading: { zh: '2. 登记证书', en: '2. The certificate' },
  certFileLabel: { zh: '证书文件（JSON），或中心签发的证书 PDF，也可拖放到此框内', en: 'Certificate file (JSON), or the certificate PDF the center issued; you may also drop it into this box' },
  certLinkLabel: { zh: '或粘贴证书链接、二维码内容', en: 'Or paste the certificate link or QR code text' },
  certLinkLoad: { zh: '载入证书', en: 'Load certificate' },
  certLoading: { zh: '正在载入证书：{url}', en: 'Loading the certificate from {url}' },
  certLoaded: { zh: '已载入证书（来源：{source}），尚未核验。', en: 'Certificate loaded (from {source}); not verified yet.' },
  certError: { zh: '无法载入证书：{message}', en: 'Cannot load the certificate: {message}' },
  certBadLink: { zh: '这不是证书链接或二维码内容', en: 'this is not a certificate link or QR code text' },
  certLinkNeedsCenter: {
    zh: '链接是相对地址，而本页面是离线副本；请粘贴完整链接（以 https:// 开头），或选择证书文件',
    en: 'the link is relative and this page is an offline copy; paste the full link (starting with https://) or choose the certificate file',
  },
  certNotJson: { zh: '内容不是 JSON', en: 'the content is not JSON' },
  certPdfNoAttachment: {
    zh: '该 PDF 未附带电子证书（JSON 附件）；请选择中心签发的证书 PDF 或证书 JSON 文件',
    en: 'this PDF carries no certificate (JSON attachment); choose the certificate PDF the center issued, or the certificate JSON',
  },
  certPdfUnreadable: { zh: '无法读取该 PDF 中的证书：{message}', en: 'cannot read the certificate in this PDF: {message}' },
  certHttp: { zh: '服务器返回 HTTP {status}', en: 'the server answered HTTP {status}' },
  registration: { zh: '登记号', en: 'Registration' },
  registeredAt: { zh: '登记时间', en: 'Registered at' },
  registrant: { zh: '登记人', en: 'Registrant' },
  category: { zh: '类别', en: 'Category' },
  issuer: { zh: '签发中心', en: 'Issued by' },
  recordedSha256: { zh: '登记的 SHA-256', en: 'Registered SHA-256' },
  settingsSummary: { zh: '核验设置：区块链节点与信任根', en: 'Settings: blockchain nodes and trust roots' },
  rpcLabel: { zh: '区块链节点 JSON-RPC 地址（每行一个；留空则不核验锚定）', en: 'Blockchain JSON-RPC URLs (one per line; empty: the anchor is not checked)' },
  rpcHint: {
    zh: '默认为登记中心公布的节点。您可以改用自己信任的任何节点，结果应当相同。',
    en: "The default is the node the center publishes. You may use any node you trust instead; the result should be the same.",
  },
  rootsHeading: { zh: '信任根证书', en: 'Trusted root certificates' },
  rootsNone: { zh: '尚无信任根：请添加登记中心的根证书（PEM），否则签名与时间戳无法核验。', en: "No trusted roots yet: add the center's root certificate (PEM), or the signature and timestamp cannot be checked." },
  rootFromCenter: { zh: '随页面提供', en: 'shipped with this page' },
  rootFromUser: { zh: '您添加的', en: 'added by you' },
  rootDevelopment: { zh: '开发用途，不作为证据', en: 'development, not evidence' },
  rootFileLabel: { zh: '添加信任根：选择 PEM 文件', en: 'Add a trusted root: choose a PEM file' },
  rootTextLabel: { zh: '或粘贴 PEM 文本', en: 'Or paste PEM text' },
  rootAdd: { zh: '添加信任根', en: 'Add trusted root' },
  rootAdded: { zh: '已添加：{subject}', en: 'Added: {subject}' },
  rootError: { zh: '无法读取信任根：{message}', en: 'Cannot read the root: {message}' },
  rootRemove: { zh: '移除', en: 'Remove' },
  rootRemoveLabel: { zh: '移除信任根 {subject}', en: 'Remove trusted root {subject}' },
  verify: { zh: '开始核验', en: 'Verify' },
  verifying: { zh: '正在核验……', en: 'Verifying…' },
  needFile: { zh: '请先选择要核验的文件。', en: 'Choose the file to check first.' },
  needCert: { zh: '请先载入证书。', en: 'Load the certificate first.' },
  resultHeading: { zh: '核验结果', en: 'Result' },
  authentic: { zh: '真实：该文件与登记的原件一致，证书有效。', en: 'AUTHENTIC: the file is the registered original and the certificate is valid.' },
  authenticDetail: {
    zh: '该文件与 {center} 于 {registeredAt} 登记的第 {id} 号文件逐字节相同。',
    en: 'The file is byte for byte the one {center} registered as number {id} at {registeredAt}.',
  },
  notAuthentic: { zh: '不真实：有核验项未通过，文件或证书与登记、签发时的不符。', en: 'NOT AUTHENTIC: a check failed; the file or the certificate is not what was registered or signed.' },
  failedList: { zh: '未通过：{steps}。', en: 'Failed: {steps}.' },
  notChecked: { zh: '未核验：{steps}。', en: 'Not checked: {steps}.' },
  allChecked: { zh: '所有项目均已核验。', en: 'Every item was checked.' },
  undetermined: {
    zh: '无法确定：没有核验项未通过，但有核验项无法进行，或不能证明任何事。',
    en: 'CANNOT BE DETERMINED: no check failed, but a check could not run or proves nothing.',
  },
  undeterminedList: { zh: '无法确定：{steps}。', en: 'Could not decide: {steps}.' },
  whatToDo: { zh: '怎么办：', en: 'What to do: ' },
  rootFingerprint: {
    zh: '所用信任根：{subject}，SHA-256 指纹 {sha256}。请与登记中心公开公布的指纹逐位核对。',
    en: "Trusted root used: {subject}, SHA-256 fingerprint {sha256}. Compare it, digit by digit, with the fingerprint the center publishes.",
  },
  statusUndetermined: { zh: '无法确定', en: 'cannot tell' },
  developmentWarning: {
    zh: '注意：此证书由开发用途的密钥签发，不作为证据。',
    en: 'Note: this certificate was signed with development keys; it is not evidence.',
  },
  statusOk: { zh: '通过', en: 'passed' },
  statusFailed: { zh: '未通过', en: 'FAILED' },
  statusSkipped: { zh: '未核验', en: 'not checked' },
  technical: { zh: '技术信息', en: 'Technical detail' },
  reportHeading: { zh: '核验报告', en: 'Verification report' },
  reportCheckedAt: { zh: '核验时间', en: 'Checked at' },
  reportFile: { zh: '文件', en: 'File' },
  reportCertificate: { zh: '证书', en: 'Certificate' },
  reportRpc: { zh: '区块链节点', en: 'Blockchain nodes' },
  reportRpcNone: { zh: '无（未核验锚定）', en: 'none (anchor not checked)' },
  reportRpcChain: { zh: '链 ID {chainId}', en: 'chain id {chainId}' },
  reportRpcProblem: { zh: '无法使用：{problem}', en: 'not usable: {problem}' },
  reportRoots: { zh: '信任根', en: 'Trusted roots' },
  reportVerifier: { zh: '核验程序', en: 'Verifier' },
  reportVerifierText: {
    zh: 'Archive Seal 浏览器核验页 {version}，在本机浏览器中运行（与命令行 archive-seal verify 相同的核验代码）',
    en: 'Archive Seal browser verifier {version}, run in this browser (the same verification code as the archive-seal verify command)',
  },
  print: { zh: '打印报告', en: 'Print report' },
  saveJson: { zh: '保存报告（JSON）', en: 'Save report (JSON)' },
  saveText: { zh: '保存报告（文本）', en: 'Save report (text)' },
  downloadPage: { zh: '下载本核验页，离线使用（单个 HTML 文件，含本中心的信任根）', en: "Download this verifier for offline use (one HTML file with this center's trust roots)" },
  offlineCopy: { zh: '这是核验页的离线副本，来自 {origin}。', en: 'This is an offline copy of the verifier, from {origin}.' },
  footer: {
    zh: '本页面在您的浏览器中完成全部核验：文件摘要、登记记录、默克尔证明、RFC 3161 时间戳、中心的 CMS 签名及其证书链，以及区块链上的锚定记录。',
    en: "This page does every check in your browser: file digests, the record, the Merkle proof, the RFC 3161 timestamp, the center's CMS signature and certificate chain, and the anchor on the blockchain.",
  },
} as const satisfies Record<string, Text>;

export type UiKey = keyof typeof UI;

/** A fixed text in `lang` with its `{name}` slots filled. */
export function t(key: UiKey, lang: Lang, vars: Record<string, string | number> = {}): string {
  return UI[key][lang].replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

/** The steps' names, as a reader knows them. */
export const STEP_NAMES: Readonly<Record<VerificationStepName, Text>> = {
  format: { zh: '证书格式', en: 'Certificate format' },
  signature: { zh: '中心签名与信任根', en: "Center's signature and trust root" },
  'file-digests': { zh: '文件摘要（SHA-256、SM3）', en: 'File digests (SHA-256, SM3)' },
  'record-digest': { zh: '登记记录摘要', en: 'Record digest' },
  leaf: { zh: '默克尔树叶子', en: 'Merkle leaf' },
  'merkle-path': { zh: '默克尔路径（至本期根值）', en: 'Merkle path to the period root' },
  timestamp: { zh: '可信时间戳（RFC 3161）', en: 'Trusted timestamp (RFC 3161)' },
  renewal: { zh: '时间戳续期（RFC 4998）', en: 'Timestamp renewal (RFC 4998)' },
  'long-term': { zh: '长期有效性（签名者证书至今有效或已续期）', en: "Long-term validity (the signer's certificate still valid, or renewed)" },
  anchor: { zh: '区块链锚定', en: 'Anchor on the blockchain' },
  registry: { zh: '登记中心数据库比对', en: "The center's own registry" },
};

/** Why a step failed, in plain words, by its code. */
const FAILURE_REASONS: Readonly<Record<string, Text>> = {
  CERT_MALFORMED: { zh: '证书文件不完整，或不是证书。', en: 'The certificate file is incomplete, or not a certificate.' },
  CERT_UNKNOWN_FORMAT: { zh: '证书格式版本无法识别；本页面核验 archive-seal/certificate@1。', en: 'Unknown certificate format version; this page checks archive-seal/certificate@1.' },
  CERT_TIMES_OUT_OF_ORDER: { zh: '证书中的时间先后矛盾（登记、封存、时间戳、签发）：不可能都为真。', en: 'The times in the certificate (registered, sealed, timestamped, issued) contradict each other: they cannot all be true.' },
  CERT_CONTENT_MISMATCH: { zh: '证书中显示的内容与中心签名的内容不一致：证书被改动过。', en: 'What the certificate shows is not what the center signed: the certificate was changed.' },
  CMS_MALFORMED: { zh: '签名数据已损坏，无法读取。', en: 'The signature is damaged and cannot be read.' },
  CMS_UNSUPPORTED_ALGORITHM: { zh: '签名使用了本页面不支持的算法。', en: 'The signature uses an algorithm this page does not support.' },
  CMS_DIGEST_MISMATCH: { zh: '签名不覆盖这份证书的内容：证书被改动过。', en: 'The signature does not cover this content: the certificate was changed.' },
  CMS_SIGNATURE_INVALID: { zh: '签名值无效：证书被改动过，或签名是伪造的。', en: 'The signature value is invalid: the certificate was changed or the signature forged.' },
  CMS_UNTRUSTED_SIGNER: {
    zh: '签名者的证书不能追溯到您信任的根证书：这份证书不是由受信任的登记备份中心签发的。',
    en: 'The signer does not chain to a root you trust: this certificate was not issued by a trusted center.',
  },
  CMS_SIGNER_NOT_FOR_DOCUMENTS: {
    zh: '签名者的证书虽能追溯到信任根，但不是中心用于签发文件的证书（例如时间戳机构或对等中心的证书）：这份证书不是中心签发的。',
    en: "The signer chains to a trusted root, but its certificate is not one the center signs documents with (a TSA's or a peer center's, say): this certificate was not issued by the center.",
  },
  CMS_BAD_TRUST_ROOT: { zh: '信任根中有一项不是有效的证书。', en: 'One of the trusted roots is not a valid certificate.' },
  FILE_MISSING: { zh: '没有选择要核验的文件。', en: 'No file was given to check.' },
  FILE_DIGEST_MISMATCH: {
    zh: '您的文件与登记的原件不同：摘要不一致。哪怕只改动一个字节，摘要也会完全不同。',
    en: 'Your file is not the registered original: the digests differ. Changing even one byte changes them completely.',
  },
  RECORD_MALFORMED: { zh: '登记记录无法按 RFC 8785 规范化：证书已损坏。', en: 'The record cannot be canonicalized (RFC 8785): the certificate is damaged.' },
  RECORD_DIGEST_MISMATCH: {
    zh: '登记记录（如文件名、时间、登记人）被改动过，与证书所证明的不符。',
    en: 'The record (file name, time, registrant…) was changed: it is not the one certified.',
  },
  LEAF_MALFORMED: { zh: '证书中的盐值或叶子值格式有误。', en: 'The salt or leaf in the certificate is malformed.' },
  LEAF_MISMATCH: { zh: '叶子值与登记记录不符：证书被改动过。', en: 'The leaf does not match the record: the certificate was changed.' },
  PROOF_MALFORMED: { zh: '默克尔证明格式有误。', en: 'The Merkle proof is malformed.' },
  PROOF_INVALID: { zh: '默克尔路径不能从该登记通向本期根值：证明被改动过。', en: 'The Merkle path does not lead from this registration to the period root: the proof was changed.' },
  TST_MALFORMED: { zh: '时间戳令牌已损坏，无法读取。', en: 'The timestamp token is damaged and cannot be read.' },
  TST_IMPRINT_MISMATCH: { zh: '时间戳所证明的不是本期根值。', en: 'The timestamp is not over this period root.' },
  TST_GENTIME_MISMATCH: { zh: '证书写明的时间戳时间与时间戳本身不符：证书被改动过。', en: 'The time the certificate gives for the timestamp is not the one in the token: the certificate was changed.' },
  TST_SIGNATURE_INVALID: { zh: '时间戳的签名无效。', en: "The timestamp's signature is invalid." },
  TST_UNTRUSTED: { zh: '时间戳机构的证书不能追溯到您信任的根证书。', en: "The timestamp authority does not chain to a root you trust." },
  TST_BAD_TRUST_ROOT: { zh: '信任根中有一项不是有效的证书。', en: 'One of the trusted roots is not a valid certificate.' },
  TST_BAD_EKU: { zh: '签发时间戳的证书未被授权签发时间戳。', en: 'The certificate that signed the timestamp may not sign timestamps.' },
  TST_ESS_MISMATCH: { zh: '时间戳中对签名证书的标识与实际证书不符。', en: "The timestamp's reference to its signing certificate does not match it." },
  TST_NONCE_MISMATCH: { zh: '时间戳的随机数与请求不符。', en: "The timestamp's nonce does not match the request." },
  TST_TSA_NAME_MISMATCH: { zh: '时间戳中的机构名称与签名者不符。', en: "The timestamp's authority name does not match its signer." },
  TST_UNSUPPORTED_ALGORITHM: { zh: '时间戳使用了本页面不支持的算法。', en: 'The timestamp uses an algorithm this page does not support.' },
  ANCHOR_NOT_FOUND: { zh: '区块链上的登记合约没有该期的根值记录。', en: 'The registry contract on the chain holds no root for this period.' },
  ANCHOR_ROOT_MISMATCH: { zh: '区块链上记录的该期根值与证书不同。', en: 'The root the chain holds for this period differs from the certificate.' },
  ANCHOR_CHAIN_MISMATCH: { zh: '所连接的节点不是证书所记录的那条链。', en: 'The node serves another chain than the certificate names.' },
  ANCHOR_BLOCK_TIME_MISMATCH: { zh: '证书写明的区块时间与链上区块的时间不符：证书被改动过。', en: "The block time the certificate gives is not the block's own: the certificate was changed." },
  ANCHOR_BLOCK_REORGED: { zh: '证书记录的区块已不在链上（区块链发生了重组）。', en: 'The block the certificate names is no longer on the chain (a reorganisation).' },
  ANCHOR_TX_NOT_FOUND: { zh: '节点找不到证书所记录的交易。', en: 'The node knows no transaction with the recorded hash.' },
  ANCHOR_TX_FAILED: { zh: '证书所记录的交易执行失败。', en: 'The recorded transaction failed.' },
  ANCHOR_BLOCK_MISMATCH: { zh: '该交易不在证书所记录的区块中。', en: 'The transaction is not in the recorded block.' },
  ANCHOR_EVENT_MISSING: { zh: '该交易没有发出锚定事件。', en: 'The transaction emitted no anchoring event.' },
  ANCHOR_EVENT_MISMATCH: { zh: '该交易的锚定事件属于其他期或其他根值。', en: "The transaction's anchoring event is for another period or root." },
  ANCHOR_INVALID_INPUT: { zh: '证书中的锚定信息格式有误。', en: 'The anchor in the certificate is malformed.' },
  ANCHOR_RPC_ERROR: { zh: '无法从区块链节点读取数据，请检查节点地址或网络。', en: 'Could not read from the blockchain node; check its URL or the network.' },
  TST_SERIAL_MISMATCH: { zh: '证书写明的时间戳序列号与时间戳本身不符：证书被改动过。', en: "The serial number the certificate gives for the timestamp is not the token's: the certificate was changed." },
  TST_STATED_TSA_MISMATCH: { zh: '证书写明的时间戳机构与实际签发时间戳的机构不符：证书被改动过。', en: 'The timestamp authority the certificate names is not the one that signed the token: the certificate was changed.' },
  REGISTRY_MISMATCH: {
    zh: '证书所述内容与本登记中心数据库中的记录不一致（登记号、记录摘要、叶子、本期根值或位置不同）：这不是本中心签发的真实证书。',
    en: "What the certificate states differs from this center's own registry (registration, record digest, leaf, period root or position): it is not a genuine certificate of this center.",
  },
};

/** Why a step could not decide, in plain words, and what the reader can do, by its code. */
const UNDETERMINED_REASONS: Record<string, { why: Text; todo: Text }> = {
  CMS_NO_TRUST_ROOT: {
    why: { zh: '没有指定信任根，无法判断签名来自哪个登记中心。', en: 'No trusted root was named, so the signature cannot be tied to any center.' },
    todo: { zh: '请添加签发证书的登记中心的根证书，并与该中心公布的 SHA-256 指纹核对。', en: "Add the root certificate of the center that issued the certificate, and compare its SHA-256 fingerprint with the one the center publishes." },
  },
  CMS_UNTRUSTED_SIGNER: {
    why: { zh: '签名者不能追溯到您信任的根证书：证书可能来自另一个登记中心。', en: 'The signer does not chain to a root you trust: the certificate may be from another center.' },
    todo: { zh: '请取得签发该证书的登记中心的根证书（核对其 SHA-256 指纹）后再核验。', en: "Get the root certificate of the center that issued it (check its SHA-256 fingerprint) and verify again." },
  },
  CMS_DEVELOPMENT_PKI: {
    why: { zh: '证书由开发用途的密钥签名，这些私钥随软件公开，任何人都能签出同样的签名。', en: 'The certificate was signed with development keys, whose private keys are published with the software: anyone can make such a signature.' },
    todo: { zh: '开发证书不是证据：请向登记中心索取以其自有密钥签发的证书。', en: 'A development certificate is not evidence: ask the center for a certificate signed with its own keys.' },
  },
  TST_DEVELOPMENT_TSA: {
    why: { zh: '时间戳来自开发用途的时间戳机构，不能证明时间。', en: 'The timestamp comes from a development timestamp authority: it proves no time.' },
    todo: { zh: '请向登记中心索取使用其自有密钥或权威时间戳机构签发时间戳的证书。', en: "Ask the center for a certificate whose timestamp comes from its own keys or an accredited authority." },
  },
  ANCHOR_NOT_CHECKED: {
    why: { zh: '没有该链的区块链节点地址，未核验锚定。', en: 'No node of this chain was given; the anchor was not checked.' },
    todo: { zh: '请在“核验设置”中填写该链的区块链节点 JSON-RPC 地址。', en: 'Add a JSON-RPC URL of a node of this chain under Settings.' },
  },
  ANCHOR_CHAIN_NOT_SERVED: {
    why: { zh: '所填写的区块链节点不服务于证书所记录的链。', en: 'The nodes given do not serve the chain the certificate names.' },
    todo: { zh: '请填写证书所记录的那条链的节点地址。', en: 'Give the URL of a node of the chain the certificate names.' },
  },
  ANCHOR_RPC_ERROR: {
    why: { zh: '无法连接区块链节点，锚定未能核验（这不说明证书有问题）。', en: 'The blockchain node could not be reached; the anchor was not checked (this says nothing against the certificate).' },
    todo: { zh: '请检查节点地址和网络，或改用该链的其他节点后再核验。', en: 'Check the node URL and the network, or use another node of this chain, and verify again.' },
  },
  ANCHOR_CHAIN_MISMATCH: {
    why: { zh: '所连接的节点不是证书所记录的那条链，无法核验锚定。', en: 'The node serves another chain than the certificate names; the anchor could not be checked.' },
    todo: { zh: '请填写证书所记录的那条链的节点地址。', en: 'Give the URL of a node of the chain the certificate names.' },
  },
  ANCHOR_DEVELOPMENT_CHAIN: {
    why: { zh: '锚定在开发用途的链上（登记中心自己运行的链或本地测试链），运行者可以改写，不能独立于登记中心证明任何事。', en: "The anchor is on a development chain (the center's own, or a local test chain): whoever runs it can rewrite it, so it proves nothing independent of the center." },
    todo: { zh: '请向登记中心索取锚定在外部区块链上的证书，并用该链的节点核验。', en: 'Ask the center for a certificate anchored on an outside chain, and check it with a node of that chain.' },
  },
};
/**
 * The renewal and long-term codes (src/core/evidence-renewal.ts): never a failure, since the
 * renewals are unsigned evidence beside the certificate; each says the evidence does not reach
 * today, and the reader can fetch the certificate again for its newest renewals.
 */
const FETCH_RENEWALS: Text = {
  zh: '请向登记中心重新获取本证书（或本期的续期记录：GET /v1/periods/{period}），其中的续期时间戳可将证据延续到签发者证书到期之后，然后再次核验。',
  en: "Fetch the certificate again from the center (or its period's renewals: GET /v1/periods/{period}); their renewal timestamps carry the evidence past the signers' expiry. Then verify again.",
};
const RENEWAL_REASONS: Readonly<Record<string, Text>> = {
  SIGNER_EXPIRED_NO_RENEWAL: {
    zh: '时间戳签发者（时间戳机构）的证书已经过期，而证书未附带续期时间戳：无法证明该时间戳在今天仍可信。',
    en: "The timestamp signer's certificate has expired and no renewal is attached: nothing shows the timestamp can still be relied on today.",
  },
  SIGNER_EXPIRED_RENEWAL_ENDS: {
    zh: '最后一次续期时间戳的签发者证书也已过期，且没有更晚的续期：证据未能延续到今天。',
    en: "The last renewal's signer certificate has expired too, and no later renewal is given: the evidence does not reach today.",
  },
  SIGNER_EXPIRED_BEFORE_RENEWAL: {
    zh: '续期晚于被续期时间戳签发者证书的到期时间：续期时已无法核验前一个时间戳，续期链断开。',
    en: 'A renewal was made after the signer of the token it renews had expired: the renewal chain is broken.',
  },
  RENEWAL_IMPRINT_MISMATCH: {
    zh: '续期时间戳所覆盖的不是本期根值与前一个时间戳：续期记录被改动过，或不属于本证书。',
    en: "A renewal does not cover this root and the token before it: the renewal record was changed or is not this certificate's.",
  },
  RENEWAL_TOKEN_INVALID: { zh: '续期时间戳本身未能通过核验（签名、证书链或时间戳机构不符）。', en: 'A renewal timestamp does not verify (its signature, certificate path or authority).' },
  RENEWAL_MALFORMED: {
    zh: '证书附带的续期记录格式有误，或属于另一期、另一根值，无法读取。',
    en: "The renewal record beside the certificate is malformed, or is for another period or root, and cannot be read.",
  },
  RENEWAL_GENTIME_MISMATCH: { zh: '续期记录写明的时间与续期时间戳本身的时间不符：续期记录被改动过。', en: "The time a renewal states is not its token's own: the renewal record was changed." },
  RENEWAL_OUT_OF_ORDER: { zh: '续期时间戳不晚于它所续期的时间戳：续期链的先后顺序不成立。', en: 'A renewal is not later than the token it renews: the renewal chain is out of order.' },
};
for (const [code, why] of Object.entries(RENEWAL_REASONS)) UNDETERMINED_REASONS[code] = { why, todo: FETCH_RENEWALS };
UNDETERMINED_REASONS['TST_NOT_VERIFIED'] = {
  why: { zh: '可信时间戳未能通过核验，因此没有证据可以延续到今天（原因见“可信时间戳”一项）。', en: 'The timestamp did not verify, so there is no evidence to carry to today (the timestamp step says why).' },
  todo: { zh: '请先解决“可信时间戳”一项所述的问题，再次核验。', en: 'Settle what the timestamp step reports first, then verify again.' },
};
for (const code of ['CMS_BAD_TRUST_ROOT', 'TST_BAD_TRUST_ROOT']) {
  UNDETERMINED_REASONS[code] = {
    why: FAILURE_REASONS[code]!,
    todo: { zh: '请移除无效的信任根，添加登记中心的根证书。', en: "Remove the invalid root and add the center's root certificate." },
  };
}
UNDETERMINED_REASONS['TST_NO_TRUST_ROOT'] = UNDETERMINED_REASONS['CMS_NO_TRUST_ROOT']!;
UNDETERMINED_REASONS['TST_UNTRUSTED'] = {
  why: { zh: '时间戳机构不能追溯到您信任的根证书。', en: 'The timestamp authority does not chain to a root you trust.' },
  todo: UNDETERMINED_REASONS['CMS_UNTRUSTED_SIGNER']!.todo,
};

/** Every code the page explains in plain words (a failure, or a step that could not decide). */
export function explainedCodes(): ReadonlySet<string> {
  return new Set([...Object.keys(FAILURE_REASONS), ...Object.keys(UNDETERMINED_REASONS)]);
}

/** A text with `{name}` slots filled. */
function fill(text: string, vars: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

/**
 * What the reader can do about a step that could not decide, in plain words; undefined for other
 * steps. A code the page has no words for keeps the core's English advice, after a Chinese lead.
 */
export function stepRemedy(step: VerificationStep, lang: Lang, content?: CertificateContent): string | undefined {
  if (step.status !== 'skipped' && step.status !== 'undetermined') return undefined;
  const known = UNDETERMINED_REASONS[step.code]?.todo[lang];
  if (known) return fill(known, { period: content?.period.id ?? '' });
  if (step.remedy === undefined) return undefined;
  return lang === 'zh' ? `请按以下说明（英文）处理：${step.remedy}` : step.remedy;
}

/**
 * The reason to show for a step, in plain words: for a passed step what it proves, for a
 * failed one what it means, for a skipped one why it was not run. The core's own English
 * message is shown beside it as the technical detail.
 */
export function stepReason(step: VerificationStep, content: CertificateContent | undefined, lang: Lang): string {
  const zh = lang === 'zh';
  if (step.status === 'skipped' && step.code === 'ANCHOR_NOT_CHECKED') {
    const chainId = (step.details?.chainId as number | undefined) ?? '?';
    return zh ? `未核验：没有链 ID ${chainId} 的区块链节点地址（可在“核验设置”中填写）。` : `Not checked: no JSON-RPC URL for chain id ${chainId} (add one under Settings).`;
  }
  if (step.status === 'skipped' || step.status === 'undetermined') {
    const known = UNDETERMINED_REASONS[step.code]?.why ?? FAILURE_REASONS[step.code];
    if (known) return known[lang];
    return zh ? `该项无法判断（代码 ${step.code}）。` : `This check could not decide (code ${step.code}).`;
  }
  if (step.status === 'failed') {
    const known = FAILURE_REASONS[step.code] ?? UNDETERMINED_REASONS[step.code]?.why;
    const signer = step.step === 'signature' && typeof step.details?.signer === 'string' ? step.details.signer : undefined;
    if (known) return signer ? `${known[lang]}${zh ? `（签名者：${signer}）` : ` (Signer: ${signer}.)`}` : known[lang];
    return zh ? `该项核验未通过（代码 ${step.code}）。` : `This check failed (code ${step.code}).`;
  }
  switch (step.step) {
    case 'format':
      return zh ? '证书格式可以识别（archive-seal/certificate@1）。' : 'The certificate format is known (archive-seal/certificate@1).';
    case 'signature': {
      const signer = (step.details?.signer as string | undefined) ?? '';
      return zh
        ? `证书由 ${signer} 签名，签名有效，签名证书可追溯到您信任的根证书；证书内容未被改动。`
        : `Signed by ${signer}; the signature is valid, the signer chains to a root you trust, and the content is unchanged.`;
    }
    case 'file-digests':
      return zh
        ? '您的文件的 SHA-256 和 SM3 摘要与登记记录一致：文件与登记的原件逐字节相同。'
        : "Your file's SHA-256 and SM3 digests match the record: it is byte for byte the registered original.";
    case 'record-digest':
      return zh ? '登记记录（文件名、登记时间、登记人等）未被改动。' : 'The record (file name, time, registrant…) is unchanged.';
    case 'leaf':
      return zh ? '登记记录与本期默克尔树中的加盐叶子值一致。' : "The record matches its salted leaf in the period's Merkle tree.";
    case 'merkle-path': {
      const p = content?.proof;
      const period = content?.period.id ?? '?';
      return zh
        ? `该登记是第 ${period} 期 ${p?.treeSize ?? '?'} 项登记中的第 ${(p?.leafIndex ?? 0) + 1} 项，默克尔路径通向本期根值。`
        : `The registration is entry ${(p?.leafIndex ?? 0) + 1} of ${p?.treeSize ?? '?'} in period ${period}; its Merkle path leads to the period root.`;
    }
    case 'timestamp': {
      const genTime = (step.details?.genTime as string | undefined) ?? content?.timestamp.genTime ?? '';
      const tsa = (step.details?.tsa as string | undefined) ?? '';
      return zh
        ? `可信时间戳证明本期根值在 ${localTime(genTime, lang)} 已经存在（时间戳机构：${tsa}）。`
        : `The trusted timestamp proves the period root existed at ${localTime(genTime, lang)} (timestamp authority: ${tsa}).`;
    }
    case 'anchor': {
      const chainId = step.details?.chainId as number | undefined;
      const anchor = content?.anchors.find((a) => a.txHash === step.details?.txHash);
      return zh
        ? `链 ID ${chainId} 的区块链在第 ${anchor?.blockNumber ?? '?'} 号区块（${localTime(anchor?.blockTime ?? '', lang)}）记录了本期根值，且该区块仍在链上。`
        : `Chain ${chainId} recorded the period root in block ${anchor?.blockNumber ?? '?'} (${localTime(anchor?.blockTime ?? '', lang)}), and the block is still on the chain.`;
    }
    case 'renewal': {
      const d = step.details ?? {};
      const index = (d.index as number | undefined) ?? '?';
      const at = localTime(String(d.genTime ?? ''), lang);
      const renews = localTime(String(d.renews ?? ''), lang);
      const tsa = String(d.tsa ?? '');
      return zh
        ? `第 ${index} 次续期：时间戳机构 ${tsa} 于 ${at} 对本期根值连同前一个时间戳（${renews}）再次加盖时间戳，当时前一个时间戳签发者的证书仍然有效。`
        : `Renewal ${index}: ${tsa} timestamped the period root together with the token before it (${renews}) at ${at}, while that token's signer was still valid.`;
    }
    case 'long-term': {
      const renewals = (step.details?.renewals as number | undefined) ?? 0;
      const until = localTime(String(step.details?.validUntil ?? ''), lang);
      const first = localTime(content?.timestamp.genTime ?? '', lang);
      if (renewals === 0) {
        return zh
          ? `时间戳签发者的证书至今有效（至 ${until}）；中心签名和时间戳均按时间戳所证明的时间核验。`
          : `The timestamp signer's certificate is still valid (until ${until}); the signature and the timestamp are judged at the time the timestamp proves.`;
      }
      return zh
        ? `${renewals} 次续期将 ${first} 的时间戳延续至今；最后一个时间戳签发者的证书有效期至 ${until}。签发者证书虽已过期，证据依然有效。`
        : `${renewals} renewal(s) carry the timestamp of ${first} to today; the last signer's certificate is valid until ${until}. The evidence holds although earlier signers have expired.`;
    }
    case 'registry':
      return zh
        ? '证书所述的登记号、记录摘要、叶子、位置和本期根值，与本登记中心数据库中的记录一致。'
        : "The registration, record digest, leaf, position and period root the certificate states are those in this center's own registry.";
  }
}

/** An instant in the reader's own zone, with the UTC value beside it. */
export function localTime(iso: string, lang: Lang): string {
  const date = new Date(iso);
  if (iso === '' || Number.isNaN(date.getTime())) return iso;
  const local = date.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
  return `${local} (${date.toISOString()})`;
}
