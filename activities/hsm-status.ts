// What /readyz asks an HSM worker: is the token logged in, and can it sign right now?
import { createVerify } from 'node:crypto';
import type { Hsm } from '../infra/hsm/hsm';
import { toDerEcdsaSignature } from '../infra/hsm/hsm';
import type { PlatformSigningKey } from '../infra/pki/platform';

export function createHsmStatus(hsm: Hsm, key: PlatformSigningKey) {
  return {
    async hsmStatus(input: { challenge: string }) {
      const data = Buffer.from(input.challenge, 'utf8');
      const signature = toDerEcdsaSignature(await hsm.signEcdsaSha256(key.keyLabel, data));
      const spki = await hsm.publicKeySpki(key.keyLabel);
      const verified = createVerify('sha256')
        .update(data)
        .verify({ key: spki, format: 'der', type: 'spki' }, signature);
      return { loggedIn: true, canSign: verified, keyLabel: key.keyLabel };
    },
  };
}
