// Demo data for `make up`, created once: one licensed maker, officers of two districts, a supervisor,
// an administrator and a few holders. Their API tokens are kept in <dataDir>/demo-logins.json.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../infra/db';
import { computeUsccCheckCharacter } from '../domain/uscc';
import { issueApiToken, type Role } from '../web/auth';
import { setLoginPassword } from '../usecases/web-accounts';

export interface DemoLogin {
  username: string;
  role: Role;
  scope: string;
  token: string;
  /** Browser login (http://…/login); made at random once, kept with the tokens. */
  password?: string;
}

/** A demo code with a correct GB 32100 check character (the first 17 characters are made up). */
const demoUscc = (first17: string) => first17 + computeUsccCheckCharacter(first17);

export async function seedDemoData(db: Db, dataDir: string): Promise<DemoLogin[]> {
  const file = path.join(dataDir, 'demo-logins.json');
  if (existsSync(file) && (await db('users').where({ username: 'admin' }).first('id'))) {
    return withPasswords(db, file, JSON.parse(readFileSync(file, 'utf8')) as DemoLogin[]);
  }
  const logins: DemoLogin[] = [];
  await db.transaction(async (trx) => {
    const makerId = randomUUID();
    await trx('makers').insert({
      id: makerId,
      name: '北京示范印章制作有限公司',
      uscc: demoUscc('91110105MA01K7Q20'),
      licence_no: '京公印制许字第0001号',
      district_code: '110105',
      licence_valid_from: '2024-01-01',
      licence_valid_until: '2029-12-31',
      licence_status: 'active',
    });
    const holders = [
      { name: '北京示范科技有限公司', kind: 'enterprise', district_code: '110108', uscc: demoUscc('91110108MA01H7L30'), address: '北京市海淀区中关村大街1号' },
      { name: '北京示范餐饮店', kind: 'individual_business', district_code: '110105', uscc: demoUscc('92110105MA01H7L41'), address: '北京市朝阳区建国路88号' },
      { name: '北京市示范社会服务中心', kind: 'social_organisation', district_code: '110105', uscc: demoUscc('52110105MA01H7L52'), address: '北京市朝阳区朝外大街6号' },
    ].map((h) => ({ id: randomUUID(), ...h }));
    await trx('holders').insert(holders);

    const users: Array<{ username: string; display_name: string; role: Role; district_code?: string; maker_id?: string; holder_id?: string; email?: string; scope: string }> = [
      { username: 'admin', display_name: '系统管理员', role: 'admin', scope: 'city' },
      { username: 'supervisor', display_name: '市局督导员 王督导', role: 'supervisor', scope: 'city' },
      { username: 'officer.chaoyang', display_name: '朝阳分局 李警官', role: 'officer', district_code: '110105', scope: '朝阳区 110105' },
      { username: 'officer.haidian', display_name: '海淀分局 张警官', role: 'officer', district_code: '110108', scope: '海淀区 110108' },
      { username: 'maker', display_name: '制作单位 陈经理', role: 'maker', maker_id: makerId, email: 'maker@demo.example', scope: '北京示范印章制作有限公司' },
      { username: 'holder', display_name: '北京示范科技 刘经办', role: 'holder', holder_id: holders[0].id, email: 'holder@demo.example', scope: `${holders[0].name} ${holders[0].uscc}` },
    ];
    for (const { scope, ...u } of users) {
      const id = randomUUID();
      await trx('users').insert({ id, ...u });
      logins.push({ username: u.username, role: u.role, scope, token: await issueApiToken(trx, id, 'demo') });
    }
  });
  writeFileSync(file, JSON.stringify(logins, null, 2), { mode: 0o600 });
  return withPasswords(db, file, logins);
}

/** Gives each demo login a browser password (also to data seeded before there were any) and prints them. */
async function withPasswords(db: Db, file: string, logins: DemoLogin[]): Promise<DemoLogin[]> {
  let changed = false;
  for (const l of logins) {
    if (l.password) continue;
    const user = await db('users').where({ username: l.username }).first('id');
    if (!user) continue;
    l.password = `Seal-${randomBytes(4).toString('hex')}-${randomBytes(2).readUInt16BE() % 90 + 10}`;
    await setLoginPassword(db, user.id, l.password);
    changed = true;
  }
  if (changed) writeFileSync(file, JSON.stringify(logins, null, 2), { mode: 0o600 });
  console.log(`\n  Browser logins (username / password; also in ${file}):\n${logins.map((l) => `    ${l.role.padEnd(10)} ${l.username.padEnd(22)} ${l.password ?? ''}`).join('\n')}\n`);
  return logins;
}
