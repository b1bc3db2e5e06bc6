// Issue 13: the SM2 CA chain beside the ECDSA one (infra/gm/sm2-ca.ts): the wrapped keys and certificates of
// the SM2 root, issuing CA and OCSP responder, the SM2 issuing CA's CRLs, and each seal's SM2 certificate
// serial (the CRL and OCSP responder find the seal by it).
import type { Knex } from 'knex';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gm_ca_keys', (t) => {
    t.string('purpose', 32).primary(); // root | issuing | ocsp_responder
    t.string('token_role', 16).notNullable(); // the token whose SM2 wrapping key wraps it: root | issuing | web
    t.string('wrapping_key_label').notNullable();
    t.binary('wrapped_private_key').notNullable();
    t.binary('public_key_spki').notNullable();
    t.binary('certificate_der').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('gm_crls', (t) => {
    t.bigInteger('crl_number').primary();
    t.binary('der').notNullable();
    t.timestamp('this_update', { useTz: true }).notNullable();
    t.timestamp('next_update', { useTz: true }).notNullable();
  });
  await knex.schema.alterTable('seal_national', (t) => {
    t.string('certificate_serial', 42).unique();
  });
  // Seals made before: their serial from the stored certificate (lower-case hex, as seals.certificate_serial).
  const rows: Array<{ seal_id: string; certificate_der: Buffer }> = await knex('seal_national').select('seal_id', 'certificate_der');
  for (const r of rows) {
    const serial = Buffer.from(AsnConvert.parse(r.certificate_der, Certificate).tbsCertificate.serialNumber).toString('hex');
    await knex('seal_national').where({ seal_id: r.seal_id }).update({ certificate_serial: serial });
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('seal_national', (t) => t.dropColumn('certificate_serial'));
  await knex.schema.dropTableIfExists('gm_crls');
  await knex.schema.dropTableIfExists('gm_ca_keys');
}
