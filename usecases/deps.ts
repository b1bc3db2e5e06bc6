// The use-cases' dependencies, as the composition roots (web/app.ts, the workers, scripts) build them.
import type { Client } from '@temporalio/client';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import type { BlobStore } from '../infra/blobs';

export interface Deps {
  db: Db;
  temporal: Client;
  config: Config;
  blobs: BlobStore;
  /** Only the web process's OCSP responder signs here; every other HSM operation runs on HSM workers. */
  hsm?: Hsm;
}
