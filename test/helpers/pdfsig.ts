// poppler's pdfsig with an NSS database holding only the given root: what a relying party with the platform
// root as its only trust anchor sees. pdfsig exits 0 even on a digest mismatch, so its output is the answer.
// Run asynchronously: the OCSP responder pdfsig asks may be this very process's web server.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function pdfsigTrustingRoot(pdf: Buffer, rootPem: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pdfsig-'));
  writeFileSync(path.join(dir, 'root.pem'), rootPem);
  writeFileSync(path.join(dir, 'f.pdf'), pdf);
  execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
  execFileSync('certutil', ['-A', '-d', `sql:${dir}`, '-n', 'root', '-t', 'CT,C,C', '-i', path.join(dir, 'root.pem')]);
  return new Promise((resolve) => {
    execFile('pdfsig', ['-nssdir', `sql:${dir}`, path.join(dir, 'f.pdf')], { encoding: 'utf8', timeout: 60_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
}
