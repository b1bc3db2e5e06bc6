// M4 test helper: an attacker process that holds one PIN (the web's) and nothing of this project but pkcs11js.
// For each token label it tries to log in with that PIN; where it can, it lists every key object it sees and
// tries to find and sign with each key label asked for. Prints one JSON object.
// Arguments: module, PIN, JSON array of token labels, JSON array of key labels.
'use strict';
const crypto = require('node:crypto');
const P = require('pkcs11js');
const [modulePath, pin, tokensJson, keysJson] = process.argv.slice(2);
const lib = new P.PKCS11();
lib.load(modulePath);
lib.C_Initialize();
const outcome = (fn) => {
  try {
    return fn();
  } catch (e) {
    return `refused: ${e.message.split(':')[0]}`;
  }
};
const out = {};
try {
  const slots = lib.C_GetSlotList(true);
  for (const tokenLabel of JSON.parse(tokensJson)) {
    const slot = slots.find((s) => lib.C_GetTokenInfo(s).label.trim() === tokenLabel);
    const r = (out[tokenLabel] = {});
    if (!slot) {
      r.login = 'no such token';
      continue;
    }
    const s = lib.C_OpenSession(slot, P.CKF_SERIAL_SESSION);
    r.login = outcome(() => (lib.C_Login(s, P.CKU_USER, pin), 'ok'));
    if (r.login !== 'ok') continue;
    const find = (template) => {
      lib.C_FindObjectsInit(s, template);
      try {
        return lib.C_FindObjects(s, 1000);
      } finally {
        lib.C_FindObjectsFinal(s);
      }
    };
    const label = (h) => lib.C_GetAttributeValue(s, h, [{ type: P.CKA_LABEL }])[0].value.toString();
    r.objects = [
      ...find([{ type: P.CKA_CLASS, value: P.CKO_PRIVATE_KEY }]).map((h) => `private:${label(h)}`),
      ...find([{ type: P.CKA_CLASS, value: P.CKO_SECRET_KEY }]).map((h) => `secret:${label(h)}`),
    ].sort();
    r.sign = {};
    for (const keyLabel of JSON.parse(keysJson)) {
      r.sign[keyLabel] = outcome(() => {
        const [key] = find([{ type: P.CKA_CLASS, value: P.CKO_PRIVATE_KEY }, { type: P.CKA_LABEL, value: keyLabel }]);
        if (!key) return 'no such key';
        lib.C_SignInit(s, { mechanism: P.CKM_ECDSA }, key);
        return `signed ${lib.C_Sign(s, crypto.createHash('sha256').update('forged').digest(), Buffer.alloc(132)).toString('hex')}`;
      });
    }
    lib.C_Logout(s);
    lib.C_CloseSession(s);
  }
} finally {
  lib.C_Finalize();
}
process.stdout.write(JSON.stringify(out));
