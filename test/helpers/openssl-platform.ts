// "Another e-seal platform" run by OpenSSL (I2 tests): its own RSA root CA (`openssl ca` with its index),
// X.509 seal certificates (ECDSA P-256 or RSA) that name its OCSP responder, its CRL, and OCSP answers made by
// `openssl ocsp` from the same index. Nothing here is the product's code: what it makes is what a platform
// this one never saw would send.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const openssl = async (args: string[], cwd: string) => (await run('openssl', args, { cwd })).stdout;

export interface OpensslSeal {
  name: string;
  keyPem: string;
  certPem: string;
  certDer: Buffer;
  keyFile: string;
  certFile: string;
}

export class OpensslPlatform {
  private constructor(
    readonly dir: string,
    readonly rootDer: Buffer,
  ) {}

  /** A new platform in `dir`: its root CA (RSA 2048), an empty index and the config `openssl ca` reads. */
  static async create(dir: string, name: string, ocspUrl: string): Promise<OpensslPlatform> {
    await mkdir(path.join(dir, 'new'), { recursive: true });
    await writeFile(path.join(dir, 'index.txt'), '');
    await writeFile(path.join(dir, 'serial'), '1000\n');
    await writeFile(path.join(dir, 'crlnumber'), '01\n');
    await writeFile(
      path.join(dir, 'ca.cnf'),
      `[ ca ]
default_ca = platform
[ platform ]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/new
certificate = $dir/root.pem
private_key = $dir/root.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 365
default_crl_days = 1
policy = any
unique_subject = no
[ any ]
commonName = supplied
organizationName = optional
[ seal ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
authorityInfoAccess = OCSP;URI:${ocspUrl}
[ seal_crl_only ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
`,
    );
    await openssl(['req', '-x509', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-subj', `/CN=${name} Root CA/O=${name}`, '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'root.pem'], dir);
    const der = await run('openssl', ['x509', '-in', 'root.pem', '-outform', 'DER'], { cwd: dir, encoding: 'buffer' });
    return new OpensslPlatform(dir, der.stdout);
  }

  /** A seal certificate issued now: ECDSA P-256 or RSA 2048, naming the OCSP responder unless `crlOnly`. */
  async issue(name: string, opts: { key: 'ec' | 'rsa'; holder: string; crlOnly?: boolean }): Promise<OpensslSeal> {
    const keyArgs = opts.key === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
    await openssl(['req', '-new', ...keyArgs, '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${opts.holder} ${name}/O=${opts.holder}`, '-out', `${name}.csr`], this.dir);
    await openssl(['ca', '-config', 'ca.cnf', '-batch', '-notext', '-extensions', opts.crlOnly ? 'seal_crl_only' : 'seal', '-in', `${name}.csr`, '-out', `${name}.pem`], this.dir);
    const certDer = (await run('openssl', ['x509', '-in', `${name}.pem`, '-outform', 'DER'], { cwd: this.dir, encoding: 'buffer' })).stdout;
    return {
      name,
      keyPem: await readFile(path.join(this.dir, `${name}.key`), 'utf8'),
      certPem: await readFile(path.join(this.dir, `${name}.pem`), 'utf8'),
      certDer,
      keyFile: path.join(this.dir, `${name}.key`),
      certFile: path.join(this.dir, `${name}.pem`),
    };
  }

  /** Marks the certificate revoked in the index (the OCSP answers say so at once; the CRL once made again). */
  async revoke(seal: OpensslSeal): Promise<void> {
    await openssl(['ca', '-config', 'ca.cnf', '-batch', '-revoke', seal.certFile, '-crl_reason', 'keyCompromise'], this.dir);
  }

  /** The CRL (DER) of the index now, valid for a day. */
  async crl(): Promise<Buffer> {
    await openssl(['ca', '-config', 'ca.cnf', '-batch', '-gencrl', '-out', 'crl.pem'], this.dir);
    return (await run('openssl', ['crl', '-in', 'crl.pem', '-outform', 'DER'], { cwd: this.dir, encoding: 'buffer' })).stdout;
  }

  /** `openssl ocsp` answers a DER request from the index, signed by the root, valid for a day. */
  async answerOcsp(request: Buffer, id: string): Promise<Buffer> {
    const req = path.join(this.dir, `ocsp-${id}.req`);
    const res = path.join(this.dir, `ocsp-${id}.res`);
    await writeFile(req, request);
    await openssl(['ocsp', '-index', 'index.txt', '-CA', 'root.pem', '-rsigner', 'root.pem', '-rkey', 'root.key', '-ndays', '1', '-reqin', req, '-respout', res], this.dir);
    return readFile(res);
  }

  /** A detached CMS signature (.p7s, DER) of `file` by the seal, made by `openssl cms` (CAdES-BES, SHA-256). */
  async signCms(seal: OpensslSeal, file: string): Promise<Buffer> {
    const out = `${file}.p7s`;
    await openssl(['cms', '-sign', '-binary', '-cades', '-md', 'sha256', '-in', file, '-signer', seal.certFile, '-inkey', seal.keyFile, '-outform', 'DER', '-out', out], this.dir);
    return readFile(out);
  }
}
