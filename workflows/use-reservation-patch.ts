/** 三(四): the signature's workflow reserves the use request and settles it after signing; runs started before replay unchanged. */
export const USE_RESERVATION_PATCH = 'use-reservation';
