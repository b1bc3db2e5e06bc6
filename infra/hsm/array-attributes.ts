// PKCS#11 calls whose template holds an attribute array (CKA_UNWRAP_TEMPLATE, CKF_ARRAY_ATTRIBUTE): pkcs11js
// passes only flat values, so these few calls go through koffi (FFI) to the same module, which the process
// has already loaded and initialised through pkcs11js (dlopen gives the same instance, so sessions and login
// are shared and a pkcs11js session handle is valid here).
import koffi from 'koffi';

/** A template value: booleans are CK_BBOOL, numbers CK_ULONG, strings and buffers bytes, arrays nested templates. */
export type ArrayTemplateValue = boolean | number | string | Buffer | ArrayTemplate;
export type ArrayTemplate = Array<{ type: number; value: ArrayTemplateValue }>;

const ULONG = 'unsigned long';
// Anonymous types: koffi's type names are per process, and a test runner may load this module twice.
const CK_ATTRIBUTE = koffi.struct({ type: ULONG, pValue: 'void *', ulValueLen: ULONG });
const CK_MECHANISM = koffi.struct({ mechanism: ULONG, pParameter: 'void *', ulParameterLen: ULONG });

type GenerateKey = (session: number, mechanism: object, template: object[], count: number, key: number[]) => number;
const functions = new Map<string, GenerateKey>();

function generateKeyFn(modulePath: string): GenerateKey {
  let fn = functions.get(modulePath);
  if (!fn) {
    const lib = koffi.load(modulePath);
    fn = lib.func('C_GenerateKey', ULONG, [ULONG, koffi.pointer(CK_MECHANISM), koffi.pointer(CK_ATTRIBUTE), ULONG, koffi.out(koffi.pointer(ULONG))]) as GenerateKey;
    functions.set(modulePath, fn);
  }
  return fn;
}

/** Encodes a template as CK_ATTRIBUTE structs; nested values live in memory freed by the caller (`owned`). */
function encodeTemplate(template: ArrayTemplate, owned: unknown[]): object[] {
  return template.map(({ type, value }) => {
    const bytes =
      typeof value === 'boolean'
        ? Buffer.from([value ? 1 : 0])
        : typeof value === 'string'
          ? Buffer.from(value, 'utf8')
          : Buffer.isBuffer(value)
            ? value
            : undefined;
    if (bytes) {
      const ptr = koffi.alloc('uint8_t', Math.max(1, bytes.length));
      owned.push(ptr);
      if (bytes.length) koffi.encode(ptr, koffi.array('uint8_t', bytes.length), Array.from(bytes));
      return { type, pValue: ptr, ulValueLen: bytes.length };
    }
    if (typeof value === 'number') {
      const ptr = koffi.alloc(ULONG, 1);
      owned.push(ptr);
      koffi.encode(ptr, ULONG, value);
      return { type, pValue: ptr, ulValueLen: koffi.sizeof(ULONG) };
    }
    const inner = encodeTemplate(value as ArrayTemplate, owned);
    const ptr = koffi.alloc(CK_ATTRIBUTE, inner.length);
    owned.push(ptr);
    koffi.encode(ptr, koffi.array(CK_ATTRIBUTE, inner.length), inner);
    return { type, pValue: ptr, ulValueLen: inner.length * koffi.sizeof(CK_ATTRIBUTE) };
  });
}

/** CK_ULONG handles as pkcs11js represents them (a little-endian buffer of the platform's unsigned long). */
const fromHandle = (h: Buffer) => Number(koffi.sizeof(ULONG) === 8 ? h.readBigUInt64LE(0) : BigInt(h.readUInt32LE(0)));
function toHandle(n: number): Buffer {
  const b = Buffer.alloc(koffi.sizeof(ULONG));
  if (b.length === 8) b.writeBigUInt64LE(BigInt(n));
  else b.writeUInt32LE(n);
  return b;
}

export class Pkcs11CallError extends Error {
  constructor(
    readonly fn: string,
    readonly code: number,
  ) {
    super(`${fn} failed: CKR 0x${code.toString(16).padStart(8, '0')}`);
  }
}

/** C_GenerateKey with a template that may hold attribute arrays; mechanism without parameters. */
export function generateKeyWithArrayTemplate(modulePath: string, session: Buffer, mechanism: number, template: ArrayTemplate): Buffer {
  const owned: unknown[] = [];
  try {
    const attrs = encodeTemplate(template, owned);
    const out = [0];
    const rv = generateKeyFn(modulePath)(fromHandle(session), { mechanism, pParameter: null, ulParameterLen: 0 }, attrs, attrs.length, out);
    if (rv !== 0) throw new Pkcs11CallError('C_GenerateKey', rv);
    return toHandle(out[0]);
  } finally {
    for (const p of owned) koffi.free(p);
  }
}

type GetAttributeValue = (session: number, object: number, template: unknown, count: number) => number;
const getters = new Map<string, GetAttributeValue>();

function getAttributeValueFn(modulePath: string): GetAttributeValue {
  let fn = getters.get(modulePath);
  if (!fn) {
    const lib = koffi.load(modulePath);
    fn = lib.func('C_GetAttributeValue', ULONG, [ULONG, ULONG, 'void *', ULONG]) as GetAttributeValue;
    getters.set(modulePath, fn);
  }
  return fn;
}

/**
 * Reads an attribute array (e.g. CKA_UNWRAP_TEMPLATE) as its inner attributes' raw values, in the three
 * calls PKCS#11 prescribes (outer length, inner lengths, inner values). Empty when the object has none.
 */
export function readArrayAttribute(modulePath: string, session: Buffer, object: Buffer, type: number): Array<{ type: number; value: Buffer }> {
  const get = getAttributeValueFn(modulePath);
  const owned: unknown[] = [];
  const call = (outer: unknown) => {
    const rv = get(fromHandle(session), fromHandle(object), outer, 1);
    if (rv !== 0) throw new Pkcs11CallError('C_GetAttributeValue', rv);
    return koffi.decode(outer, CK_ATTRIBUTE) as { type: number; pValue: unknown; ulValueLen: number };
  };
  try {
    const outer = koffi.alloc(CK_ATTRIBUTE, 1);
    owned.push(outer);
    koffi.encode(outer, CK_ATTRIBUTE, { type, pValue: null, ulValueLen: 0 });
    const size = call(outer).ulValueLen;
    const n = Math.floor(size / koffi.sizeof(CK_ATTRIBUTE));
    if (n === 0) return [];
    const innerType = koffi.array(CK_ATTRIBUTE, n);
    const inner = koffi.alloc(CK_ATTRIBUTE, n);
    owned.push(inner);
    koffi.encode(inner, innerType, Array.from({ length: n }, () => ({ type: 0, pValue: null, ulValueLen: 0 })));
    koffi.encode(outer, CK_ATTRIBUTE, { type, pValue: inner, ulValueLen: size });
    call(outer);
    const sized = (koffi.decode(inner, innerType) as Array<{ type: number; ulValueLen: number }>).map((a) => {
      const ptr = koffi.alloc('uint8_t', Math.max(1, a.ulValueLen));
      owned.push(ptr);
      return { type: a.type, pValue: ptr, ulValueLen: a.ulValueLen };
    });
    koffi.encode(inner, innerType, sized);
    call(outer);
    return sized.map((a) => ({ type: a.type, value: Buffer.from(koffi.decode(a.pValue, koffi.array('uint8_t', a.ulValueLen)) as number[]) }));
  } finally {
    for (const p of owned) koffi.free(p);
  }
}
