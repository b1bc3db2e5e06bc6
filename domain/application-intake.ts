/**
 * The maker's application form (S1, S2, A1–A4, M2), checked field by field so that every error names its
 * field in Chinese and English at once. Pure: the web passes the parsed JSON body in.
 */
import { fieldRef, invalidField, requiredField, ValidationCollector, type FieldRef } from './errors';
import { getDistrict } from './districts';
import { parseHolderKind, suggestHolderKind, type HolderKind } from './holders';
import { isSealTextLanguage, type SealTextLanguage } from './materials';
import { identityFields, identityKey, parseIdentityDocument } from './identity-documents';
import { parseSealName, SEAL_TEXT_LIMITS } from './seal-text';
import {
  assertPersonalSealRoleAllowed,
  assertSealKindAllowed,
  parsePersonalSealRole,
  parseSealKind,
  type PersonalSealRole,
  type SealKind,
} from './seals';
import { parseUscc } from './uscc';

export interface ApplicationForm {
  holder: {
    uscc: string;
    name: string;
    kind: HolderKind;
    address: string;
    districtCode: string;
    legalRepresentative: string | null;
    hasSuperior: boolean;
  };
  seal: {
    kind: SealKind;
    /** The text on the seal: the holder's name, or the department's / branch's name for those kinds. */
    text: string;
    language: SealTextLanguage;
    person: { name: string; idNumber: string; role: PersonalSealRole } | null;
  };
  handler: { name: string; idNumber: string; phone: string };
  /** M2: the legal representative / operator, when the form names them (idNumber is an identity key). */
  legalRep: { name: string; idNumber: string; phone: string } | null;
  newlyEstablishedOrgan: boolean;
}

const F = {
  holderUscc: fieldRef('holder.uscc', '统一社会信用代码', 'Unified social credit code'),
  holderName: fieldRef('holder.name', '单位名称', 'Holder name'),
  holderKind: fieldRef('holder.kind', '单位（机构）类型', 'Holder kind'),
  holderAddress: fieldRef('holder.address', '注册地址', 'Registered address'),
  holderDistrict: fieldRef('holder.district', '所属行政区', 'District'),
  legalRep: fieldRef('holder.legal_representative', '法定代表人', 'Legal representative'),
  sealKind: fieldRef('seal.kind', '印章类型', 'Seal kind'),
  sealText: fieldRef('seal.text', '印章文字', 'Seal text'),
  language: fieldRef('seal.language', '印章文字语种', 'Seal text language'),
  personName: fieldRef('seal.person.name', '个人名章姓名', 'Name on the personal seal'),
  personId: identityFields('seal.person.', '个人名章本人', "The person's"),
  personRole: fieldRef('seal.person.role', '个人名章人员身份', 'Role of the person'),
  handlerName: fieldRef('handler.name', '经办人姓名', 'Handler name'),
  handlerId: identityFields('handler.', '经办人', "Handler's"),
  handlerPhone: fieldRef('handler.phone', '经办人联系电话', "Handler's phone"),
  legalRepName: fieldRef('legal_representative.name', '法定代表人或经营者姓名', "Legal representative's or operator's name"),
  legalRepId: identityFields('legal_representative.', '法定代表人或经营者', "Legal representative's or operator's"),
  legalRepPhone: fieldRef('legal_representative.phone', '法定代表人或经营者联系电话', "Legal representative's or operator's phone"),
} as const;

// Control characters and bidirectional overrides never belong in a name, and make spoofing possible.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

export function parseName(value: unknown, field: FieldRef, max = 100): string {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) throw requiredField(field);
  if (typeof value !== 'string') throw invalidField(field, '应为文字', 'must be text');
  const v = value.normalize('NFC').trim();
  if (FORBIDDEN_CHARS.test(v)) throw invalidField(field, '含有控制字符或方向控制符', 'contains control or bidirectional-override characters');
  if ([...v].length > max) throw invalidField(field, `不能超过${max}个字符`, `must be at most ${max} characters`);
  return v;
}

export function parsePhone(value: unknown, field: FieldRef): string {
  if (value === undefined || value === null || value === '') throw requiredField(field);
  const v = String(value).replace(/[\s-]/g, '');
  if (!/^(1[3-9]\d{9}|0\d{9,11})$/.test(v)) {
    throw invalidField(field, '应为11位手机号码或带区号的固定电话', 'must be an 11-digit mobile number or a landline with area code');
  }
  return v;
}

type Json = Record<string, unknown>;

/**
 * The kind given, or, when none is, the one the USCC's registration department and category name (GB 32100:
 * 9-1 企业, 1-1 机关 …), so a maker need not say twice what the code says. Where the code names none (or is
 * itself wrong, which its own field already reports) the kind is asked for.
 */
function holderKindOf(given: unknown, uscc: ReturnType<typeof parseUscc> | undefined): HolderKind | undefined {
  if (given !== undefined && given !== null && given !== '') return parseHolderKind(given, F.holderKind);
  if (!uscc) return undefined;
  const suggested = suggestHolderKind(uscc);
  if (suggested) return suggested;
  throw invalidField(F.holderKind, `统一社会信用代码（登记管理部门 ${uscc.registrationDepartmentCode}、机构类别 ${uscc.organisationCategoryCode}）未表明单位类型，请选择`, `the USCC (registration department ${uscc.registrationDepartmentCode}, category ${uscc.organisationCategoryCode}) does not say which kind the holder is: choose one`, { code: 'HOLDER_KIND_REQUIRED' });
}

/** The holder's part of a form (also what the market-regulation feed sends for A3). */
export function parseHolderSection(h: Json, v: ValidationCollector): Partial<ApplicationForm['holder']> {
  const parsedUscc = v.check(() => parseUscc(h.uscc, { field: F.holderUscc }));
  const uscc = parsedUscc?.code;
  const name = v.check(() => parseSealName(h.name, F.holderName, 'registered', SEAL_TEXT_LIMITS.holderName));
  const kind = v.check(() => holderKindOf(h.kind, parsedUscc));
  const address = v.check(() => parseName(h.address, F.holderAddress, 200));
  const district = v.check(() => getDistrict(h.district, F.holderDistrict));
  const legalRepresentative =
    h.legal_representative === undefined || h.legal_representative === null ? null : v.check(() => parseSealName(h.legal_representative, F.legalRep, 'person', SEAL_TEXT_LIMITS.otherPersonName));
  return { uscc, name, kind, address, districtCode: district?.code, legalRepresentative: legalRepresentative ?? null, hasSuperior: h.has_superior === true };
}

export function parseHolderForm(body: unknown): ApplicationForm['holder'] {
  const v = new ValidationCollector();
  const holder = parseHolderSection(obj(body), v);
  v.throwAggregateIfAny();
  return holder as ApplicationForm['holder'];
}
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

export function parseApplicationForm(body: unknown, today: Date): ApplicationForm {
  const b = obj(body);
  const h = obj(b.holder);
  const s = obj(b.seal);
  const p = s.person === undefined || s.person === null ? null : obj(s.person);
  const hd = obj(b.handler);
  const v = new ValidationCollector();

  const holder = parseHolderSection(h, v);
  const holderKind = holder.kind;
  const holderName = holder.name;
  const sealKind = v.check(() => parseSealKind(s.kind, F.sealKind));
  const language = v.check(() => {
    const l = s.language ?? 'zh';
    if (!isSealTextLanguage(l)) throw invalidField(F.language, '应为 zh、foreign 或 minority', 'must be zh, foreign or minority');
    return l;
  });
  if (holderKind && sealKind) v.check(() => assertSealKindAllowed(holderKind, sealKind));

  let person: ApplicationForm['seal']['person'] = null;
  if (sealKind === 'personal_name') {
    if (!p) v.add(requiredField(fieldRef('seal.person', '个人名章人员信息', 'Person of the personal seal')));
    else {
      const name = v.check(() => parseSealName(p.name, F.personName, 'person', SEAL_TEXT_LIMITS.personName));
      const idNumber = v.check(() => identityKey(parseIdentityDocument({ type: p.id_type, number: p.id_number, country: p.id_country }, F.personId, today)));
      const role = v.check(() => parsePersonalSealRole(p.role, F.personRole));
      if (holderKind && role) v.check(() => assertPersonalSealRoleAllowed(holderKind, role));
      if (name && idNumber && role) person = { name, idNumber, role };
    }
  }
  // The text on the seal: departments and branches name themselves; other public seals carry the holder's
  // registered name, and a personal seal the person's: a different text sent for those is refused, not ignored.
  const text =
    sealKind === 'internal_department'
      ? v.check(() => parseSealName(s.text, F.sealText, 'registered', SEAL_TEXT_LIMITS.departmentName))
      : sealKind === 'branch'
        ? v.check(() => parseSealName(s.text, F.sealText, 'registered', SEAL_TEXT_LIMITS.holderName))
        : sealKind === 'personal_name'
          ? person?.name
          : holderName;
  if (sealKind && sealKind !== 'internal_department' && sealKind !== 'branch' && s.text !== undefined && s.text !== null && s.text !== '') {
    const given = typeof s.text === 'string' ? s.text.normalize('NFC').trim() : s.text;
    if (text !== undefined && given !== text) {
      v.add(
        sealKind === 'personal_name'
          ? invalidField(F.sealText, '个人名章的文字是本人姓名，不能另填', "a personal name seal's text is the person's name; leave it out")
          : invalidField(F.sealText, '此类印章的文字是单位的登记名称，不能另填', "this seal's text is the holder's registered name; leave it out", { code: 'SEAL_TEXT_NOT_REGISTERED_NAME' }),
      );
    }
  }

  const handlerName = v.check(() => parseSealName(hd.name, F.handlerName, 'person', SEAL_TEXT_LIMITS.otherPersonName));
  const handlerId = v.check(() => identityKey(parseIdentityDocument({ type: hd.id_type, number: hd.id_number, country: hd.id_country }, F.handlerId, today)));
  const handlerPhone = v.check(() => parsePhone(hd.phone, F.handlerPhone));
  // M2: the legal representative / operator with identity document and contact; its name is the holder's.
  let legalRep: ApplicationForm['legalRep'] = null;
  if (b.legal_representative !== undefined && b.legal_representative !== null) {
    const lr = obj(b.legal_representative);
    const name = v.check(() => parseSealName(lr.name, F.legalRepName, 'person', SEAL_TEXT_LIMITS.otherPersonName));
    const idNumber = v.check(() => identityKey(parseIdentityDocument({ type: lr.id_type, number: lr.id_number, country: lr.id_country }, F.legalRepId, today)));
    const phone = v.check(() => parsePhone(lr.phone, F.legalRepPhone));
    if (name && holder.legalRepresentative && name !== holder.legalRepresentative) {
      v.add(invalidField(F.legalRepName, `与单位信息中的法定代表人“${holder.legalRepresentative}”不一致`, `differs from the holder's legal representative "${holder.legalRepresentative}"`, { code: 'LEGAL_REP_MISMATCH' }));
    }
    if (name && idNumber && phone) legalRep = { name, idNumber, phone };
  }
  v.throwAggregateIfAny();

  return {
    holder: { ...(holder as ApplicationForm['holder']), legalRepresentative: holder.legalRepresentative ?? legalRep?.name ?? null },
    seal: { kind: sealKind!, text: text!, language: language!, person },
    handler: { name: handlerName!, idNumber: handlerId!, phone: handlerPhone! },
    legalRep,
    newlyEstablishedOrgan: b.newly_established_organ === true,
  };
}
