// The activity interceptor both workers install (activities/failure-interceptor.ts), run by Temporal's own
// activity test environment: a domain error becomes a non-retryable failure keeping its code and both
// messages; any other error stays retryable; an activity with a heartbeat timeout heartbeats by itself.
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { activityInterceptors } from '../../activities/failure-interceptor';
import { conflict, DomainError, FIELDS, invalidField, ValidationErrors } from '../../domain/errors';
import { BlobCorruptedError, BlobMissingError, BlobTooLargeError } from '../../infra/blobs/errors';
import { PersonalDataIntegrityError } from '../../infra/crypto/place';

const env = (info: Record<string, unknown> = {}) => new MockActivityEnvironment(info, { interceptors: [activityInterceptors] });

async function failureOf(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (e) {
    return e;
  }
  throw new Error('the activity did not fail');
}

test('a domain error becomes a non-retryable ApplicationFailure with its code and bilingual messages', async () => {
  const e = await failureOf(
    env().run(async () => {
      throw conflict('KEEPER_REMOVED', '申请重置口令的人员已不是此印章的保管人', 'The person the reset was requested for is no longer a keeper of this seal');
    }),
  );
  expect(e).toBeInstanceOf(ApplicationFailure);
  const f = e as ApplicationFailure;
  expect(f.nonRetryable).toBe(true);
  expect(f.type).toBe('KEEPER_REMOVED');
  expect(f.message).toBe('The person the reset was requested for is no longer a keeper of this seal');
  expect(f.details).toEqual([{ code: 'KEEPER_REMOVED', messageZh: '申请重置口令的人员已不是此印章的保管人', messageEn: 'The person the reset was requested for is no longer a keeper of this seal', httpStatus: 409 }]);
});

test('a field error keeps the field it names; several at once are one VALIDATION_FAILED', async () => {
  const several = (await failureOf(env().run(async () => { throw new ValidationErrors([invalidField(FIELDS.uscc, '校验码错误', 'check character is wrong'), invalidField(FIELDS.district, '不存在', 'does not exist')]); }))) as ApplicationFailure;
  expect(several).toMatchObject({ nonRetryable: true, type: 'VALIDATION_FAILED' });
  expect(several.details?.[0]).toMatchObject({ messageZh: '统一社会信用代码：校验码错误；所属行政区：不存在', messageEn: 'Unified social credit code: check character is wrong; District: does not exist' });
  const f = (await failureOf(env().run(async () => { throw invalidField(FIELDS.uscc, '校验码错误', 'check character is wrong'); }))) as ApplicationFailure;
  expect(f.nonRetryable).toBe(true);
  expect(f.type).toBe('INVALID_FIELD');
  expect(f.details?.[0]).toMatchObject({ code: 'INVALID_FIELD', field: 'uscc', messageZh: '统一社会信用代码：校验码错误', messageEn: 'Unified social credit code: check character is wrong', httpStatus: 400 });
});

test('any other error stays as it was, so the retry policy retries it', async () => {
  const lost = Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
  const e = await failureOf(env().run(async () => { throw lost; }));
  expect(e).toBe(lost);
  expect(e).not.toBeInstanceOf(ApplicationFailure);
});

test('the infrastructure\'s refusals are DomainErrors: a corrupted or missing file and tampered personal data stay retryable (an operator can restore them), an upload too large is final', async () => {
  const sha = 'ab'.repeat(32);
  const repairable = [new BlobCorruptedError(sha, 'cd'.repeat(32), 'local'), new BlobMissingError(sha, 's3'), new PersonalDataIntegrityError({ table: 'holders', column: 'legal_rep_id_number' }, 'tag mismatch')];
  for (const err of repairable) {
    expect(err).toBeInstanceOf(DomainError);
    expect([err.httpStatus, err.retryable]).toEqual([500, true]);
    expect(await failureOf(env().run(async () => { throw err; }))).toBe(err);
  }
  const tooLarge = new BlobTooLargeError(1024);
  expect(tooLarge).toMatchObject({ code: 'UPLOAD_TOO_LARGE', httpStatus: 413, messageZh: '文件超过 1024 字节，未保存', messageEn: 'The file exceeds 1024 bytes and was not stored', message: 'more than 1024 bytes' });
  const f = (await failureOf(env().run(async () => { throw tooLarge; }))) as ApplicationFailure;
  expect(f).toMatchObject({ nonRetryable: true, type: 'UPLOAD_TOO_LARGE' });
});

test('an activity given a heartbeat timeout heartbeats while it runs, without calling heartbeat itself', async () => {
  const e = env({ heartbeatTimeoutMs: 1500 });
  // The activity finishes only once a heartbeat has been sent for it: without the interceptor it never would.
  const beat = new Promise<void>((resolve) => e.once('heartbeat', () => resolve()));
  await expect(e.run(async () => { await beat; return 'done'; })).resolves.toBe('done');
});

test('an activity without a heartbeat timeout sends none', async () => {
  const e = env({ heartbeatTimeoutMs: undefined });
  let beats = 0;
  e.on('heartbeat', () => beats++);
  await e.run(async () => undefined);
  expect(beats).toBe(0);
});
