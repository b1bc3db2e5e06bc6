// M4 test helper: an attacker process that holds the token PIN (and nothing of this project but pkcs11js)
// and tries to get a wrapped seal key out of the HSM. Prints one JSON object: each attempt's outcome,
// "allowed" or the PKCS#11 error. Arguments: module, token label, PIN, wrapping key label, wrapped key (hex),
// label for a token copy (left on the token for pkcs11-tool to try, and deleted by the test).
'use strict';
const pkcs11js = require('pkcs11js');
const [modulePath, tokenLabel, pin, wrappingLabel, blobHex, copyLabel] = process.argv.slice(2);
const P = pkcs11js;
const lib = new P.PKCS11();
lib.load(modulePath);
lib.C_Initialize();
const out = {};
try {
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === tokenLabel);
  const s = lib.C_OpenSession(slot, P.CKF_RW_SESSION | P.CKF_SERIAL_SESSION);
  lib.C_Login(s, P.CKU_USER, pin);
  lib.C_FindObjectsInit(s, [{ type: P.CKA_CLASS, value: P.CKO_SECRET_KEY }, { type: P.CKA_LABEL, value: wrappingLabel }]);
  const [wrap] = lib.C_FindObjects(s, 1);
  lib.C_FindObjectsFinal(s);
  const blob = Buffer.from(blobHex, 'hex');
  const mech = { mechanism: P.CKM_AES_KEY_WRAP_PAD };
  const attempt = (name, fn) => {
    try {
      const r = fn();
      out[name] = r === undefined ? 'allowed' : r;
    } catch (e) {
      out[name] = `refused: ${e.message.split(':')[0]}`;
    }
  };
  const ec = [{ type: P.CKA_CLASS, value: P.CKO_PRIVATE_KEY }, { type: P.CKA_KEY_TYPE, value: P.CKK_EC }];
  attempt('readWrappingKeyValue', () => lib.C_GetAttributeValue(s, wrap, [{ type: P.CKA_VALUE }])[0].value.toString('hex'));
  attempt('unwrapExtractableReadable', () => {
    const k = lib.C_UnwrapKey(s, mech, wrap, blob, [{ type: P.CKA_TOKEN, value: false }, ...ec, { type: P.CKA_SENSITIVE, value: false }, { type: P.CKA_EXTRACTABLE, value: true }]);
    return `value ${lib.C_GetAttributeValue(s, k, [{ type: P.CKA_VALUE }])[0].value.toString('hex')}`;
  });
  attempt('unwrapAsGenericSecret', () => {
    const k = lib.C_UnwrapKey(s, mech, wrap, blob, [{ type: P.CKA_TOKEN, value: false }, { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY }, { type: P.CKA_KEY_TYPE, value: P.CKK_GENERIC_SECRET }, { type: P.CKA_SENSITIVE, value: false }, { type: P.CKA_EXTRACTABLE, value: true }]);
    return `value ${lib.C_GetAttributeValue(s, k, [{ type: P.CKA_VALUE }])[0].value.toString('hex')}`;
  });
  attempt('unwrapWithDefaults', () => {
    const k = lib.C_UnwrapKey(s, mech, wrap, blob, [{ type: P.CKA_TOKEN, value: false }, ...ec]);
    return `value ${lib.C_GetAttributeValue(s, k, [{ type: P.CKA_VALUE }])[0].value.toString('hex')}`;
  });
  // Token copies for pkcs11-tool (which reads secret keys, not private keys): as a readable generic secret,
  // as an extractable private key, else as the HSM allows.
  attempt('unwrapTokenSecretCopy', () => {
    lib.C_UnwrapKey(s, mech, wrap, blob, [{ type: P.CKA_TOKEN, value: true }, { type: P.CKA_LABEL, value: `${copyLabel}-secret` }, { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY }, { type: P.CKA_KEY_TYPE, value: P.CKK_GENERIC_SECRET }, { type: P.CKA_PRIVATE, value: true }, { type: P.CKA_SENSITIVE, value: false }, { type: P.CKA_EXTRACTABLE, value: true }]);
  });
  attempt('unwrapTokenCopyExtractable', () => {
    lib.C_UnwrapKey(s, mech, wrap, blob, [{ type: P.CKA_TOKEN, value: true }, { type: P.CKA_LABEL, value: copyLabel }, ...ec, { type: P.CKA_PRIVATE, value: true }, { type: P.CKA_SENSITIVE, value: false }, { type: P.CKA_EXTRACTABLE, value: true }, { type: P.CKA_SIGN, value: true }]);
  });
  if (out.unwrapTokenCopyExtractable !== 'allowed') {
    // What signWithWrappedKey asks for: the only template the HSM accepts; then try to get the value out.
    const allowed = [...ec, { type: P.CKA_SENSITIVE, value: true }, { type: P.CKA_EXTRACTABLE, value: false }, { type: P.CKA_WRAP_WITH_TRUSTED, value: true }, { type: P.CKA_SIGN, value: true }, { type: P.CKA_DECRYPT, value: false }, { type: P.CKA_DERIVE, value: false }, { type: P.CKA_UNWRAP, value: false }];
    let copy;
    attempt('unwrapTokenCopyAsAllowed', () => {
      copy = lib.C_UnwrapKey(s, mech, wrap, blob, [{ type: P.CKA_TOKEN, value: true }, { type: P.CKA_PRIVATE, value: true }, { type: P.CKA_LABEL, value: copyLabel }, ...allowed]);
    });
    if (copy) {
      attempt('readCopyValue', () => lib.C_GetAttributeValue(s, copy, [{ type: P.CKA_VALUE }])[0].value.toString('hex'));
      attempt('setCopyExtractable', () => lib.C_SetAttributeValue(s, copy, [{ type: P.CKA_EXTRACTABLE, value: true }]));
      attempt('setCopyNotSensitive', () => lib.C_SetAttributeValue(s, copy, [{ type: P.CKA_SENSITIVE, value: false }]));
      attempt('wrapCopyUnderOwnKey', () => {
        const mine = lib.C_GenerateKey(s, { mechanism: P.CKM_AES_KEY_GEN }, [{ type: P.CKA_TOKEN, value: false }, { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY }, { type: P.CKA_KEY_TYPE, value: P.CKK_AES }, { type: P.CKA_VALUE_LEN, value: 32 }, { type: P.CKA_SENSITIVE, value: false }, { type: P.CKA_EXTRACTABLE, value: true }, { type: P.CKA_WRAP, value: true }, { type: P.CKA_UNWRAP, value: true }, { type: P.CKA_DECRYPT, value: true }]);
        return `wrapped ${Buffer.from(lib.C_WrapKey(s, mech, mine, copy, Buffer.alloc(1024))).toString('hex')}`;
      });
    }
  }
  lib.C_Logout(s);
  lib.C_CloseSession(s);
} finally {
  lib.C_Finalize();
}
process.stdout.write(JSON.stringify(out));
