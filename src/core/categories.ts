/**
 * The center's category taxonomy, in the words of the policy that defines its work
 * (衢委办〔2010〕59号, 关于开展电子文件和数字档案登记备份工作的实施意见): livelihood records
 * (民生档案: 婚姻、移民等十大重点民生档案, and 劳动就业、社会保障、教育、卫生医疗、契税、
 * 住房公积金), key construction project records (重点建设项目档案: 项目前期文件、隐蔽工程、竣工图),
 * records of agencies and units due for transfer (机关、团体、国有企事业单位), and voluntary
 * registrations of private enterprises, other organisations and individuals (自愿登记).
 * Codes are stable: they are written into records and certificates.
 */
export interface Category {
  code: string;
  group: CategoryGroup;
  zh: string;
  en: string;
}

export type CategoryGroup = 'livelihood' | 'project' | 'agency' | 'voluntary';

export const CATEGORY_GROUPS: Readonly<Record<CategoryGroup, { zh: string; en: string }>> = Object.freeze({
  livelihood: { zh: '民生档案', en: 'Livelihood records' },
  project: { zh: '重点建设项目档案', en: 'Key construction project records' },
  agency: { zh: '机关、团体、国有企事业单位档案', en: 'Records of agencies, public bodies and state enterprises' },
  voluntary: { zh: '自愿登记', en: 'Voluntary registrations' },
});

export const CATEGORIES: readonly Category[] = Object.freeze([
  // The policy names marriage and migration of its 十大重点民生档案 ("婚姻、移民等", ten in
  // all) and then employment, social security, education, health care, deed tax and the housing
  // provident fund; it does not list the rest of the ten. The eight after those are the other
  // livelihood records county archives commonly register (property, land and forest rights,
  // family planning, educated youth, veterans, social assistance, notarization): our choice,
  // not the policy's words. `livelihood.other` takes what none of them names.
  { code: 'livelihood.marriage', group: 'livelihood', zh: '婚姻登记档案', en: 'Marriage registration records' },
  { code: 'livelihood.migration', group: 'livelihood', zh: '移民档案', en: 'Migration (resettlement) records' },
  { code: 'livelihood.employment', group: 'livelihood', zh: '劳动就业档案', en: 'Employment records' },
  { code: 'livelihood.social-security', group: 'livelihood', zh: '社会保障档案', en: 'Social security records' },
  { code: 'livelihood.education', group: 'livelihood', zh: '教育(学籍)档案', en: 'Education (student status) records' },
  { code: 'livelihood.health-care', group: 'livelihood', zh: '卫生医疗档案', en: 'Health care records' },
  { code: 'livelihood.deed-tax', group: 'livelihood', zh: '契税档案', en: 'Deed tax records' },
  { code: 'livelihood.housing-provident-fund', group: 'livelihood', zh: '住房公积金档案', en: 'Housing provident fund records' },
  { code: 'livelihood.real-estate', group: 'livelihood', zh: '房地产权属档案', en: 'Real estate title records' },
  { code: 'livelihood.land-contract', group: 'livelihood', zh: '农村土地承包档案', en: 'Rural land contract records' },
  { code: 'livelihood.forest-rights', group: 'livelihood', zh: '林权档案', en: 'Forest rights records' },
  { code: 'livelihood.family-planning', group: 'livelihood', zh: '独生子女(计划生育)档案', en: 'Only-child (family planning) records' },
  { code: 'livelihood.educated-youth', group: 'livelihood', zh: '知青档案', en: 'Rusticated youth (zhiqing) records' },
  { code: 'livelihood.veterans', group: 'livelihood', zh: '退役军人档案', en: 'Veterans records' },
  { code: 'livelihood.social-assistance', group: 'livelihood', zh: '社会救助(低保)档案', en: 'Social assistance (minimum living allowance) records' },
  { code: 'livelihood.notarization', group: 'livelihood', zh: '公证档案', en: 'Notarization records' },
  { code: 'livelihood.other', group: 'livelihood', zh: '其他民生档案', en: 'Other livelihood records' },
  // 重点建设项目档案(包括项目前期文件、隐蔽工程和竣工图等)
  { code: 'project.pre-project', group: 'project', zh: '项目前期文件', en: 'Pre-project documents' },
  { code: 'project.concealed-works', group: 'project', zh: '隐蔽工程档案', en: 'Concealed works records' },
  { code: 'project.as-built-drawings', group: 'project', zh: '竣工图', en: 'As-built drawings' },
  { code: 'project.other', group: 'project', zh: '其他重点建设项目档案', en: 'Other key project records' },
  // 进馆单位的电子文件和数字档案: 文书, 数字化成果 (纸质、声像、照片), 目录数据库.
  { code: 'agency.documents', group: 'agency', zh: '文书档案(电子文件)', en: 'Administrative documents (electronic records)' },
  { code: 'agency.digitized', group: 'agency', zh: '传统载体档案数字化成果', en: 'Digitized paper, audio-visual and photo records' },
  { code: 'agency.catalogue', group: 'agency', zh: '档案目录数据库', en: 'Archival catalogue databases' },
  { code: 'agency.business', group: 'agency', zh: '业务档案与电子数据', en: 'Business records and electronic data' },
  // 民营企业、其他社会组织以及个人 (自愿申请).
  { code: 'voluntary.private-enterprise', group: 'voluntary', zh: '民营企业档案', en: 'Private enterprise records' },
  { code: 'voluntary.social-organization', group: 'voluntary', zh: '其他社会组织档案', en: 'Other social organisation records' },
  { code: 'voluntary.individual', group: 'voluntary', zh: '个人重要电子文件', en: 'Important records of individuals' },
] satisfies Category[]);

const BY_CODE = new Map(CATEGORIES.map((c) => [c.code, c]));

/** The category with this code, or undefined. */
export function findCategory(code: string): Category | undefined {
  return BY_CODE.get(code);
}

/**
 * The category someone most likely meant by `text`, for a "did you mean" hint: the code whose
 * last part is `text` (marriage), whose Chinese name holds it or is held in it (婚姻), or the
 * nearest code within a few typing errors (livelyhood.marriage). Undefined when none is close.
 */
export function suggestCategory(text: string): Category | undefined {
  const given = text.trim().toLowerCase();
  if (given === '') return undefined;
  const bySuffix = CATEGORIES.find((c) => c.code.slice(c.code.indexOf('.') + 1) === given);
  if (bySuffix) return bySuffix;
  const byName = CATEGORIES.find((c) => c.zh === text.trim()) ?? CATEGORIES.find((c) => c.zh.includes(text.trim()) || text.includes(c.zh.replace(/档案$/, '')));
  if (byName) return byName;
  let best: { category: Category; distance: number } | undefined;
  for (const category of CATEGORIES) {
    const suffix = category.code.slice(category.code.indexOf('.') + 1);
    const distance = Math.min(editDistance(given, category.code), editDistance(given, suffix));
    if (!best || distance < best.distance) best = { category, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(given.length / 4)) ? best.category : undefined;
}

/** Levenshtein distance in UTF-16 code units (codes are ASCII). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** What the API and the CLI say of a category code not in the taxonomy, with a hint when one is close. */
export function unknownCategoryMessage(what: string, code: string): string {
  const near = suggestCategory(code);
  return `${what} "${code}" is not in the taxonomy${near ? ` (did you mean ${near.code}, ${near.zh}?)` : ''}; see GET /v1/categories or archive-seal categories`;
}
