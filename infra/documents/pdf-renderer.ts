/**
 * HTML → PDF for the official documents (./render.ts makes their HTML), in one long-lived headless Chromium.
 * It assumes the HTML is hostile: JavaScript is disabled in the browser context, every network request is
 * aborted (data: URIs never reach the network); a page is reused only after its document has been printed in
 * full (see {@link PdfRenderer}).
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export interface PdfRendererOptions {
  /** Chromium binary (Debian package `chromium`). */
  executablePath?: string;
  /** Per-document timeout for loading and printing, in milliseconds. */
  timeoutMs?: number;
  /** Documents rendered at once; more wait their turn (each open page is a renderer process, ~50-100 MB). */
  maxConcurrent?: number;
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/**
 * HTML → PDF in one long-lived headless Chromium. Each page lives in its own browser context (JavaScript
 * disabled, every network request aborted, service workers blocked) and is reused for later documents:
 * a fresh context and page cost a renderer process and a font load per document, about half of the render
 * time. Reuse is safe because with JavaScript off a document can leave nothing behind: setContent replaces
 * the whole DOM, and there are no scripts, timers, storage or network. A page that failed is closed, never
 * reused; pages are recycled after {@link PAGE_REUSE_LIMIT} documents to bound renderer memory. If
 * Chromium dies, the next render starts a new one.
 */
const PAGE_REUSE_LIMIT = 200;

interface PooledPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  uses: number;
}

export class PdfRenderer {
  private browser: Browser | null;
  private relaunching: Promise<Browser> | null = null;
  private closed = false;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly idle: PooledPage[] = [];

  private constructor(
    browser: Browser,
    private readonly options: Required<PdfRendererOptions>,
  ) {
    this.browser = this.watch(browser);
  }

  static async launch(options: PdfRendererOptions = {}): Promise<PdfRenderer> {
    const resolved = {
      executablePath: options.executablePath ?? '/usr/bin/chromium',
      timeoutMs: options.timeoutMs ?? 30_000,
      maxConcurrent: Math.max(1, options.maxConcurrent ?? 2),
    };
    return new PdfRenderer(await PdfRenderer.start(resolved), resolved);
  }

  private static start(options: Required<PdfRendererOptions>): Promise<Browser> {
    return chromium.launch({ executablePath: options.executablePath, args: CHROMIUM_ARGS, timeout: options.timeoutMs });
  }

  private watch(browser: Browser): Browser {
    browser.on('disconnected', () => {
      if (this.browser === browser) this.browser = null;
    });
    return browser;
  }

  private async connectedBrowser(): Promise<Browser> {
    if (this.closed) throw new Error('PdfRenderer is closed');
    if (this.browser?.isConnected()) return this.browser;
    this.relaunching ??= PdfRenderer.start(this.options)
      .then((b) => (this.browser = this.watch(b)))
      .finally(() => (this.relaunching = null));
    return this.relaunching;
  }

  /** An idle page of the current browser, or a new one in a context of its own. */
  private async takePage(): Promise<PooledPage> {
    const browser = await this.connectedBrowser();
    for (let p = this.idle.pop(); p; p = this.idle.pop()) {
      if (p.browser === browser && !p.page.isClosed()) return p;
      void p.context.close().catch(() => undefined);
    }
    const context = await browser.newContext({ javaScriptEnabled: false, serviceWorkers: 'block', acceptDownloads: false });
    try {
      await context.route('**/*', (route) => route.abort('blockedbyclient'));
      const page = await context.newPage();
      page.setDefaultTimeout(this.options.timeoutMs);
      return { browser, context, page, uses: 0 };
    } catch (e) {
      await context.close().catch(() => undefined);
      throw e;
    }
  }

  /** The PDF of a complete HTML page, A4 with backgrounds printed. */
  async render(html: string): Promise<Buffer> {
    if (typeof html !== 'string') throw new TypeError('render(html): html must be a string');
    await this.acquire();
    try {
      const p = await this.takePage();
      let reusable = false;
      try {
        await p.page.setContent(html, { waitUntil: 'load' });
        const pdf = await p.page.pdf({ format: 'A4', printBackground: true });
        reusable = ++p.uses < PAGE_REUSE_LIMIT && !this.closed;
        return pdf;
      } finally {
        if (reusable) this.idle.push(p);
        else await p.context.close().catch(() => undefined);
      }
    } finally {
      this.release();
    }
  }

  /** A slot among maxConcurrent; a released slot passes straight to the next waiter. */
  private async acquire(): Promise<void> {
    if (this.active < this.options.maxConcurrent) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.idle.length = 0; // closing the browser closes their contexts
    const browser = this.browser ?? (this.relaunching ? await this.relaunching.catch(() => null) : null);
    this.browser = null;
    await browser?.close();
  }
}
