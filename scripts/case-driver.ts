// A scripted maker and officer taking applications from submission to collection through the JSON API, as real
// clients do: a request whose answer was lost (502 from a load balancer whose web process died under it) is sent
// again only after the case's status says it has not taken effect. Used by `npm run cluster:chaos` and
// `npm run bench:scale`.
import { makeResidentId, PNG_BYTES } from '../test/helpers/fixtures';
import { now, sleep } from '../bench/lib';

export const DISTRICT = '110108'; // 海淀区: the demo officer.haidian sees every task
const ORDER = ['submitted', 'materials_required', 'awaiting_production', 'producing', 'awaiting_filing', 'filing_under_review', 'ready', 'collected'];
const atOrPast = (status: string, target: string) => ORDER.indexOf(status) >= ORDER.indexOf(target);


export interface Counters {
  requests: number;
  lostAnswers: number; // network error or 502/503/504: the answer never came
  refusedRetries: number; // a step sent again and refused (409): its first attempt had gone through, or the state lagged
  refusals: Map<string, number>; // every 409 of a step, by step and error code
}

export class ResilientClient {
  readonly counters: Counters = { requests: 0, lostAnswers: 0, refusedRetries: 0, refusals: new Map() };
  constructor(private readonly url: string) {}

  /** One HTTP request; undefined when its answer was lost (the request may or may not have taken effect). */
  async send(token: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any } | undefined> {
    this.counters.requests++;
    try {
      const isForm = body instanceof FormData;
      const res = await fetch(this.url + p, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined && !isForm ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(45_000),
      });
      const text = await res.text();
      if ([502, 503, 504].includes(res.status)) {
        this.counters.lostAnswers++;
        return undefined;
      }
      let json: any = text;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: json };
    } catch {
      this.counters.lostAnswers++;
      return undefined;
    }
  }

  /** A read, retried until it answers. */
  async get(token: string, p: string, deadline: number): Promise<any> {
    for (;;) {
      const r = await this.send(token, 'GET', p);
      if (r?.status === 200) return r.body;
      if (r && r.status !== 200 && ![500].includes(r.status)) throw new Error(`GET ${p}: HTTP ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      if (Date.now() > deadline) throw new Error(`GET ${p}: no answer before the deadline`);
      await sleep(500);
    }
  }
}

export class CaseDriver {
  /** How long each officer's accepted decision took to answer (ms): the Update round trip seen by a client. */
  readonly decisionMs: number[] = [];

  constructor(
    private readonly http: ResilientClient,
    private readonly maker: string,
    private readonly officer: string,
  ) {}

  private status(caseId: string, deadline: number, waitFor?: string): Promise<{ status: string }> {
    const q = waitFor ? `?wait_for=${waitFor}&timeout_ms=15000` : '';
    return this.http.get(this.maker, `/api/applications/${caseId}/status${q}`, deadline);
  }

  private async until(caseId: string, target: string, deadline: number) {
    for (;;) {
      const s = await this.status(caseId, deadline, target);
      if (atOrPast(s.status, target)) return;
      if (Date.now() > deadline) throw new Error(`case ${caseId} is ${s.status} at the deadline, expected ${target}`);
    }
  }

  /**
   * A step that moves the case on: done once the case is at `done` or past it. The request is sent again
   * only when its answer was lost or it was refused (409: e.g. the first attempt went through), and only
   * after the case's status says it has not taken effect.
   */
  private async step(caseId: string, done: string, deadline: number, request: () => Promise<{ status: number; body: any } | undefined>, ok: number) {
    let attempts = 0;
    for (;;) {
      const s = await this.status(caseId, deadline);
      if (atOrPast(s.status, done)) return;
      const r = await request();
      attempts++;
      if (r?.status === ok) return this.until(caseId, done, deadline);
      if (r?.status === 409) {
        const key = `${done}: ${r.body?.error?.code ?? 'conflict'} (${String(r.body?.error?.message_en ?? '').slice(0, 80)})`;
        this.http.counters.refusals.set(key, (this.http.counters.refusals.get(key) ?? 0) + 1);
      }
      if (r && r.status === 409 && attempts > 1) this.http.counters.refusedRetries++;
      else if (r && r.status !== 0 && r.status !== 409 && r.status !== 500) throw new Error(`case ${caseId} towards ${done}: HTTP ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      if (Date.now() > deadline) throw new Error(`case ${caseId}: not ${done} by the deadline`);
      await sleep(1000);
    }
  }

  async runCase(holder: Holder, deadline: number): Promise<string> {
    const handlerId = makeResidentId();
    // The idempotency key makes a repeated submission return the case created the first time.
    const key = `chaos-${holder.uscc}`;
    let caseId = '';
    for (;;) {
      const r = await this.http.send(this.maker, 'POST', '/api/applications', {
        holder: { uscc: holder.uscc, name: holder.name, kind: 'enterprise', address: holder.address, district: DISTRICT, legal_representative: '王五' },
        seal: { kind: 'legal_name', language: 'zh' },
        handler: { name: '赵六', id_number: handlerId, phone: `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}` },
      }, { 'idempotency-key': key });
      if (r?.status === 201) {
        caseId = r.body.id;
        break;
      }
      if (r && r.status !== 500) throw new Error(`submit for ${holder.uscc}: HTTP ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      if (Date.now() > deadline) throw new Error(`submit for ${holder.uscc}: no answer by the deadline`);
      await sleep(1000);
    }
    holder.caseId = caseId;
    await this.until(caseId, 'awaiting_production', deadline);
    let imageId = '';
    await this.step(caseId, 'producing', deadline, async () => {
      if (!imageId) {
        const form = new FormData();
        form.set('kind', 'on_site_image');
        form.set('file', new Blob([PNG_BYTES]), 'onsite.png');
        const up = await this.http.send(this.maker, 'POST', `/api/applications/${caseId}/materials`, form);
        if (up?.status !== 201) return up && up.status !== 500 ? up : undefined;
        imageId = up.body.id;
      }
      return this.http.send(this.maker, 'POST', `/api/applications/${caseId}/production`, { production_data: { produced_on: new Date().toISOString().slice(0, 10), operator: '钱七', medium: 'HSM', device: 'SoftHSM2' }, on_site_image_id: imageId });
    }, 200);
    await this.until(caseId, 'awaiting_filing', deadline);
    await this.step(caseId, 'filing_under_review', deadline, () => this.http.send(this.maker, 'POST', `/api/applications/${caseId}/filing`, { note: '集群故障演练' }), 201);
    await this.step(caseId, 'ready', deadline, async () => {
      const tasks: Array<{ id: string; case_id: string }> = await this.http.get(this.officer, '/api/tasks?kind=filing_review', deadline);
      const task = tasks.find((x) => x.case_id === caseId);
      if (!task) return { status: 0, body: 'no open task yet' }; // the review task is projected a moment later
      const t0 = now();
      const r = await this.http.send(this.officer, 'POST', `/api/tasks/${task.id}/decision`, { decision: 'accept' });
      if (r?.status === 200) this.decisionMs.push(now() - t0);
      return r;
    }, 200);
    await this.step(caseId, 'collected', deadline, () => this.http.send(this.maker, 'POST', `/api/applications/${caseId}/collection`, { collector_name: '赵六', collector_id_number: handlerId }), 200);
    return caseId;
  }
}

export interface Holder {
  uscc: string;
  name: string;
  address: string;
  caseId?: string;
}

