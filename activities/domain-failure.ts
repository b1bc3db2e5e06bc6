// A step that fails on a domain rule (a name the imprint cannot draw, a certificate name too long) fails the
// same way on every retry: it is reported as a non-retryable failure carrying the bilingual reason, so the
// workflow stops the case with that reason instead of retrying for ever.
import { ApplicationFailure } from '@temporalio/common';
import { isDomainError } from '../domain/errors';

export async function domainErrorsAreFinal<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (!isDomainError(e) || e.retryable) throw e;
    throw ApplicationFailure.create({
      type: e.code,
      message: e.messageEn,
      nonRetryable: true,
      details: [{ zh: e.messageZh, en: e.messageEn, code: e.code, field: e.field ?? null }],
    });
  }
}
