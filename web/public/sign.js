// The signing page: shows the chosen PDF's pages with pdf.js (pdfjs-dist, served from /static/pdfjs) and
// turns a click on a page into the imprint's page and centre in millimetres from the page's left and bottom
// edges (the fields page, x, y the server's PAdES signer takes). Without this script the form still signs
// (page 1, lower right).
import * as pdfjs from '/static/pdfjs/build/pdf.min.mjs';

pdfjs.GlobalWorkerOptions.workerSrc = '/static/pdfjs/build/pdf.worker.min.mjs';
const MM_PER_PT = 25.4 / 72;
const MAX_PAGES = 50;
const zh = (document.documentElement.lang || 'zh').indexOf('zh') === 0;

const form = document.getElementById('sign-form');
const input = document.getElementById('f-file');
const pane = document.getElementById('pdf-pages');
const say = document.getElementById('placement');
const fPage = document.getElementById('f-page');
const fx = document.getElementById('f-x');
const fy = document.getElementById('f-y');
const imprintMm = Number(form.dataset.imprintMm) || 42;
const crossPage = document.getElementById('f-cross_page');

function place(wrap, marker, pageNo, xMm, yMm, widthMm, heightMm) {
  fPage.value = String(pageNo);
  fx.value = xMm.toFixed(1);
  fy.value = yMm.toFixed(1);
  document.querySelectorAll('.imprint-marker').forEach((m) => { if (m !== marker) m.hidden = true; });
  marker.hidden = false;
  // CSSOM, not a style attribute: the page's CSP allows no inline styles.
  marker.style.width = `${(imprintMm / widthMm) * 100}%`;
  marker.style.left = `${((xMm - imprintMm / 2) / widthMm) * 100}%`;
  marker.style.top = `${((heightMm - yMm - imprintMm / 2) / heightMm) * 100}%`;
  say.textContent = zh
    ? `印章位置：第 ${pageNo} 页，距左边 ${xMm.toFixed(1)} 毫米、距下边 ${yMm.toFixed(1)} 毫米（印章中心）`
    : `Imprint: page ${pageNo}, centre ${xMm.toFixed(1)} mm from the left and ${yMm.toFixed(1)} mm from the bottom`;
  wrap.setAttribute('data-placed', 'true');
}

/** 骑缝章: only the height counts (the server cuts the imprint into one slice per page at the right edges). */
function placeCrossPage(yMm) {
  fPage.value = fx.value = '';
  fy.value = yMm.toFixed(1);
  document.querySelectorAll('.imprint-marker').forEach((m) => { m.hidden = true; });
  say.textContent = zh ? `骑缝章：每页右边缘，印章中心距下边 ${yMm.toFixed(1)} 毫米` : `Cross-page seal: every page's right edge, centre ${yMm.toFixed(1)} mm from the bottom`;
}

if (crossPage) {
  crossPage.addEventListener('change', () => {
    fPage.value = fx.value = fy.value = '';
    document.querySelectorAll('.imprint-marker').forEach((m) => { m.hidden = true; });
    say.textContent = crossPage.checked
      ? (zh ? '骑缝章：点击页面选择印章中心的高度（不点击则在页面中部）' : 'Cross-page seal: click a page to choose the height of its centre (otherwise mid-page)')
      : (zh ? '请在页面上点击印章中心的位置' : 'Click where the centre of the imprint goes');
  });
}

async function show(file) {
  pane.textContent = '';
  const doc = await pdfjs.getDocument({
    data: new Uint8Array(await file.arrayBuffer()),
    isEvalSupported: false,
    cMapUrl: '/static/pdfjs/cmaps/',
    cMapPacked: true,
    standardFontDataUrl: '/static/pdfjs/standard_fonts/',
  }).promise;
  const count = Math.min(doc.numPages, MAX_PAGES);
  for (let n = 1; n <= count; n++) {
    const pdfPage = await doc.getPage(n);
    const base = pdfPage.getViewport({ scale: 1 });
    const widthMm = base.width * MM_PER_PT;
    const heightMm = base.height * MM_PER_PT;
    const scale = Math.min(2, (pane.clientWidth - 8) / base.width) * (window.devicePixelRatio || 1);
    const viewport = pdfPage.getViewport({ scale });
    const wrap = document.createElement('figure');
    wrap.className = 'pdf-page';
    wrap.dataset.page = String(n);
    const canvas = document.createElement('canvas');
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    canvas.setAttribute('aria-label', zh ? `第 ${n} 页：点击放置印章` : `Page ${n}: click to place the imprint`);
    const marker = document.createElement('img');
    marker.className = 'imprint-marker';
    marker.src = form.dataset.imprint;
    marker.alt = '';
    marker.hidden = true;
    const caption = document.createElement('figcaption');
    caption.textContent = zh ? `第 ${n} 页 / 共 ${doc.numPages} 页` : `Page ${n} of ${doc.numPages}`;
    wrap.append(canvas, marker, caption);
    pane.append(wrap);
    await pdfPage.render({ canvasContext: canvas.getContext('2d'), canvas, viewport }).promise;
    canvas.addEventListener('click', (ev) => {
      const box = canvas.getBoundingClientRect();
      const xMm = ((ev.clientX - box.left) / box.width) * widthMm;
      const yMm = (1 - (ev.clientY - box.top) / box.height) * heightMm;
      if (crossPage && crossPage.checked) placeCrossPage(yMm);
      else place(wrap, marker, n, xMm, yMm, widthMm, heightMm);
    });
  }
  if (doc.numPages > count) {
    const more = document.createElement('p');
    more.className = 'muted small';
    more.textContent = zh ? `仅显示前 ${count} 页` : `Only the first ${count} pages are shown`;
    pane.append(more);
  }
  pane.setAttribute('data-rendered', String(count));
}

input.addEventListener('change', () => {
  const file = input.files && input.files[0];
  if (!file) return;
  fPage.value = fx.value = fy.value = '';
  show(file).catch((e) => {
    pane.textContent = zh ? `无法显示此 PDF：${e.message}` : `Cannot show this PDF: ${e.message}`;
  });
});
