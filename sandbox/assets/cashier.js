// The cashier page: a till of a demo store that calls the real cashier API
// (/v1) with the store's key — check the QR code or typed code, ring up СЗПТ
// lines from the catalogue, pay with the family's vouchers, show the priced
// receipt. The QR code is read with the browser's BarcodeDetector where it
// reads QR codes, else with the bundled jsQR.
'use strict';

(() => {
  const { t, api, el, money } = SW;
  const $ = (id) => document.getElementById(id);
  const st = {
    merchants: [], prices: {}, cities: [], store: null, products: [],
    credential: null, // {token} or {code} that checked out
    lines: [], attempt: null, // {body, key}: a purchase sent and not yet answered
    sale: null, // the last redemption
    stream: null, detector: undefined,
  };

  function cityName(id) {
    const c = st.cities.find((x) => x.id === id);
    return c ? (SW.lang() === 'kk' ? c.name_kk : c.name_ru) : id;
  }
  function productName(code) {
    const p = st.products.find((x) => x.code === code);
    return p ? (SW.lang() === 'kk' ? p.name_kk : p.name_ru) : code;
  }
  function unitOf(code) {
    const p = st.products.find((x) => x.code === code);
    return p ? p.unit : 'kg';
  }
  function unitText(u) { return t('sb_unit_' + u); }

  // v1 calls the cashier API as the chosen store.
  function v1(method, path, body, extra) {
    return api(method, '/v1/' + path, body, Object.assign({ Authorization: 'Bearer ' + st.store.key }, extra || {}));
  }

  function problem(e) {
    const known = ['token_invalid', 'token_expired', 'token_used', 'family_frozen', 'insufficient_funds', 'not_szpt',
      'rate_limited', 'unauthorized', 'void_window_passed'];
    if (known.includes(e.code)) {
      let s = t('sb_err_' + e.code);
      if (e.code === 'not_szpt' && e.body.detail) s += ' (' + e.body.detail + ')';
      return s;
    }
    if (e.code === 'validation') {
      const first = (e.body.errors || [])[0];
      return t('sb_err_validation', { Detail: first ? first.field + ': ' + first.reason : e.message });
    }
    return t('sb_err_other', { Detail: e.message });
  }

  function status(id, kind, text) {
    const s = $(id);
    s.className = 'status' + (kind ? ' ' + kind : '');
    s.textContent = text;
    s.classList.toggle('hidden', !text);
  }

  // ---- the store ----

  async function loadStores() {
    const r = await api('GET', '/sandbox/api/merchants');
    st.merchants = r.merchants || [];
    st.prices = r.prices || {};
    st.cities = r.cities || [];
    let saved = 0;
    try { saved = Number(localStorage.getItem('sw-store')) || 0; } catch (e) { /* ignore */ }
    await chooseStore(st.merchants.find((m) => m.id === saved) || st.merchants[0]);
  }

  function drawStores() {
    const sel = $('store');
    sel.textContent = '';
    for (const m of st.merchants) {
      sel.append(el('option', { value: String(m.id), selected: st.store && m.id === st.store.id }, m.name + ' — ' + cityName(m.city)));
    }
    if (st.store) {
      $('store-line').textContent = t('sb_store_line', { City: cityName(st.store.city), Address: st.store.address, Discount: SW.percent(st.store.discount_bp) });
    }
  }

  async function chooseStore(m) {
    if (!m) return;
    st.store = m;
    try { localStorage.setItem('sw-store', String(m.id)); } catch (e) { /* ignore */ }
    drawStores();
    try {
      const r = await v1('GET', 'catalog');
      st.products = r.products || [];
    } catch (e) {
      status('check-status', 'bad', problem(e));
    }
    drawProducts();
    newSale();
  }

  function drawProducts() {
    const sel = $('product');
    const keep = sel.value;
    sel.textContent = '';
    const sorted = [...st.products].sort((a, b) => productName(a.code).localeCompare(productName(b.code), SW.lang()));
    for (const p of sorted) sel.append(el('option', { value: p.code }, productName(p.code) + ' (' + unitText(p.unit) + ')'));
    if (keep && st.products.some((p) => p.code === keep)) sel.value = keep;
    productChanged();
  }

  function productChanged() {
    const code = $('product').value;
    const price = st.prices[code];
    $('price').value = price ? String(price % 100 ? (price / 100).toFixed(2) : price / 100) : '';
    const u = unitOf(code);
    $('qty').value = u === 'pcs' ? '10' : '1';
    $('qty-label').textContent = t('sb_qty') + ', ' + unitText(u);
  }

  // ---- the code ----

  async function check(credential) {
    st.credential = null;
    status('check-status', '', '');
    updatePay();
    try {
      const r = await v1('POST', 'tokens/check', credential);
      st.credential = credential;
      status('check-status', 'ok', t('sb_checked', { Member: r.member, Amount: money(r.available_tiyn), Until: SW.localHM(r.expires_at) }));
    } catch (e) {
      status('check-status', 'bad', problem(e));
    }
    updatePay();
  }

  function typedCode() {
    const digits = $('code').value.replace(/\D/g, '');
    return digits;
  }

  // ---- reading a QR code ----

  async function qrDetector() {
    if (st.detector !== undefined) return st.detector;
    st.detector = null;
    try {
      if ('BarcodeDetector' in window) {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes('qr_code')) st.detector = new window.BarcodeDetector({ formats: ['qr_code'] });
      }
    } catch (e) { st.detector = null; }
    $('decoder').textContent = t(st.detector ? 'sb_decoder_native' : 'sb_decoder_jsqr');
    return st.detector;
  }

  // decode reads a QR code from an image, video or bitmap; null when none.
  async function decode(source, width, height) {
    const det = await qrDetector();
    if (det) {
      try {
        const found = await det.detect(source);
        if (found.length) return found[0].rawValue;
      } catch (e) { /* fall through to jsQR */ }
    }
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(source, 0, 0, width, height);
    const img = ctx.getImageData(0, 0, width, height);
    const r = window.jsQR(img.data, width, height, { inversionAttempts: 'attemptBoth' });
    return r ? r.data : null;
  }

  async function scanned(text) {
    status('check-status', 'ok', t('sb_scanned'));
    $('code').value = '';
    await check({ token: text });
  }

  async function startCamera() {
    await qrDetector();
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error('getUserMedia');
      st.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (e) {
      status('check-status', 'bad', t('sb_camera_failed', { Error: e.name || e.message }));
      return;
    }
    const video = $('video');
    video.srcObject = st.stream;
    $('scanner').classList.remove('hidden');
    await video.play().catch(() => {});
    const tick = async () => {
      if (!st.stream) return;
      if (video.readyState >= 2 && video.videoWidth) {
        const text = await decode(video, video.videoWidth, video.videoHeight);
        if (text) {
          stopCamera();
          await scanned(text);
          return;
        }
      }
      setTimeout(tick, 200);
    };
    tick();
  }

  function stopCamera() {
    if (st.stream) st.stream.getTracks().forEach((tr) => tr.stop());
    st.stream = null;
    $('video').srcObject = null;
    $('scanner').classList.add('hidden');
  }

  async function fromImage(file) {
    if (!file) return;
    try {
      const bmp = await createImageBitmap(file);
      // Small codes are scaled up so the decoder sees whole modules.
      const scale = Math.max(1, Math.ceil(600 / Math.max(bmp.width, bmp.height)));
      const text = await decode(bmp, bmp.width * scale, bmp.height * scale);
      if (!text) {
        status('check-status', 'bad', t('sb_no_qr'));
        return;
      }
      await scanned(text);
    } catch (e) {
      status('check-status', 'bad', t('sb_no_qr'));
    }
  }

  // ---- the lines ----

  function price(line) {
    // As the API prices (pinned by the wallet's tests): per line, gross
    // rounded half up to the tiyn, discount rounded down.
    const gross = Math.floor((line.qty_milli * line.unit_price_tiyn + 500) / 1000);
    const discount = Math.floor(gross * st.store.discount_bp / 10000);
    return { gross, discount, net: gross - discount };
  }

  function qtyText(code, milli) {
    const u = unitOf(code);
    const n = u === 'pcs' ? String(milli / 1000) : (milli / 1000).toLocaleString(SW.lang() === 'kk' ? 'kk-KZ' : 'ru-RU', { maximumFractionDigits: 3 });
    return n + '\u00a0' + unitText(u);
  }

  function drawLines() {
    const body = $('lines-body');
    body.textContent = '';
    if (!st.lines.length) {
      body.append(el('tr', {}, el('td', { colspan: '7', class: 'sub', text: t('sb_no_lines') })));
    }
    let net = 0;
    let disc = 0;
    st.lines.forEach((l, i) => {
      const p = price(l);
      net += p.net;
      disc += p.discount;
      body.append(el('tr', { dataset: { product: l.product } },
        el('td', { text: productName(l.product) }),
        el('td', { text: qtyText(l.product, l.qty_milli) }),
        el('td', { class: 'hide-narrow', text: money(l.unit_price_tiyn) }),
        el('td', { class: 'hide-narrow', text: money(p.gross) }),
        el('td', { text: money(p.discount) }),
        el('td', { text: money(p.net) }),
        el('td', { class: 'x' }, el('button', { type: 'button', title: t('sb_remove'), 'aria-label': t('sb_remove'), text: '✕', disabled: !!st.sale, onclick: () => { st.lines.splice(i, 1); drawLines(); } }))));
    });
    $('estimate').textContent = st.lines.length ? t('sb_estimate', { Net: money(net), Discount: money(disc) }) : '';
    updatePay();
  }

  function addLine() {
    const code = $('product').value;
    const qty = Number($('qty').value);
    const priceTenge = Number($('price').value);
    const qtyMilli = Math.round(qty * 1000);
    const unitPrice = Math.round(priceTenge * 100);
    if (!code || !(qtyMilli > 0) || !(unitPrice > 0) || (unitOf(code) === 'pcs' && qtyMilli % 1000 !== 0)) {
      SW.toast(t('sb_err_validation', { Detail: t('sb_qty') + ' / ' + t('sb_price') }));
      return;
    }
    st.lines.push({ product: code, qty_milli: qtyMilli, unit_price_tiyn: unitPrice });
    drawLines();
  }

  // ---- paying ----

  function updatePay() {
    $('pay-btn').disabled = !(st.credential && st.lines.length && !st.sale);
    $('add-btn').disabled = !!st.sale;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function receiptNo() {
    let n = 0;
    const k = 'sw-receipt-' + st.store.id;
    try { n = Number(localStorage.getItem(k)) || 0; localStorage.setItem(k, String(n + 1)); } catch (e) { n = Date.now() % 100000; }
    return 'K' + st.store.id + '-' + String(n + 1).padStart(6, '0');
  }

  async function pay() {
    const body = Object.assign({}, st.credential, { lines: st.lines });
    // A purchase that got no answer is sent again with the same key, so it
    // is charged once; a changed purchase is a new one.
    const same = st.attempt && JSON.stringify(st.attempt.lines) === JSON.stringify(body.lines);
    if (!same) st.attempt = { key: uuid(), receipt: receiptNo(), lines: body.lines };
    body.receipt_no = st.attempt.receipt;
    $('pay-btn').disabled = true;
    status('pay-status', '', '');
    try {
      st.sale = await v1('POST', 'redemptions', body, { 'Idempotency-Key': st.attempt.key });
      st.attempt = null;
      drawReceipt();
      status('pay-status', 'ok', t('sb_receipt_sent'));
      $('new-btn').classList.remove('hidden');
    } catch (e) {
      if (e.status && e.status !== 0) st.attempt = null; // answered: nothing was charged
      status('pay-status', 'bad', e.status ? problem(e) : t('sb_error_network'));
    }
    drawLines();
  }

  function drawReceipt() {
    const r = st.sale;
    const box = $('receipt');
    box.textContent = '';
    box.classList.remove('hidden');
    const rows = [
      [t('sb_total_gross'), money(r.gross_tiyn)],
      [t('sb_total_discount', { Percent: SW.percent(r.discount_bp) }), '−' + money(r.discount_tiyn)],
      [t('sb_total_net'), money(r.net_tiyn), true],
      [t('sb_total_covered'), money(r.covered_tiyn), true],
      [t('sb_total_to_pay'), money(r.to_pay_tiyn)],
      [t('sb_total_remaining'), money(r.family_remaining_tiyn)],
    ];
    const lines = el('table', { class: 'lines' }, el('tbody', {}, r.lines.map((l) => el('tr', {},
      el('td', { text: productName(l.product) }),
      el('td', { text: qtyText(l.product, l.qty_milli) + ' × ' + money(l.unit_price_tiyn) }),
      el('td', { text: money(l.gross_tiyn) }),
      el('td', { text: '−' + money(l.discount_tiyn) }),
      el('td', { text: money(l.net_tiyn) })))));
    const parts = [
      el('h3', { text: t('sb_receipt_title', { No: r.receipt_no }) }),
      el('div', { class: 'sub' }, st.store.name + ' · ' + t('sb_receipt_member', { Member: r.member }) + ' · ' + SW.localHM(r.created_at)),
      r.status === 'voided' ? el('div', { class: 'voided', text: t('sb_voided', { Amount: money(r.void ? r.void.returned_tiyn : 0) }) }) : null,
      lines,
      el('div', { class: 'totals' }, rows.map(([k, v, strong]) => [el('div', { class: strong ? 'strong' : '', text: k }), el('div', { class: strong ? 'strong' : '', text: v })])),
      r.status === 'voided' ? null : el('div', { class: 'pay-row' }, el('button', { type: 'button', class: 'btn light', id: 'void-btn', text: t('sb_void'), onclick: voidSale })),
    ];
    box.append(...parts.filter(Boolean));
  }

  async function voidSale() {
    try {
      st.sale = await v1('POST', 'redemptions/' + st.sale.id + '/void');
      drawReceipt();
      status('pay-status', 'ok', t('sb_voided', { Amount: money(st.sale.void.returned_tiyn) }));
    } catch (e) {
      status('pay-status', 'bad', problem(e));
    }
  }

  function newSale() {
    stopCamera();
    st.credential = null;
    st.lines = [];
    st.attempt = null;
    st.sale = null;
    $('code').value = '';
    status('check-status', '', '');
    status('pay-status', '', '');
    $('receipt').classList.add('hidden');
    $('new-btn').classList.add('hidden');
    drawLines();
  }

  function wire() {
    $('store').addEventListener('change', (e) => chooseStore(st.merchants.find((m) => String(m.id) === e.target.value)));
    $('code-form').addEventListener('submit', (e) => {
      e.preventDefault();
      if (st.sale) newSale();
      check({ code: typedCode() });
    });
    $('code').addEventListener('input', (e) => {
      const d = e.target.value.replace(/\D/g, '').slice(0, 8);
      e.target.value = d.length > 4 ? d.slice(0, 4) + ' ' + d.slice(4) : d;
    });
    $('scan-btn').addEventListener('click', () => { if (st.sale) newSale(); startCamera(); });
    $('scan-stop').addEventListener('click', stopCamera);
    $('image').addEventListener('change', (e) => { if (st.sale) newSale(); fromImage(e.target.files[0]); e.target.value = ''; });
    $('product').addEventListener('change', productChanged);
    $('add-form').addEventListener('submit', (e) => { e.preventDefault(); addLine(); });
    $('pay-btn').addEventListener('click', pay);
    $('new-btn').addEventListener('click', newSale);
    SW.onLang(() => {
      drawStores();
      drawProducts();
      drawLines();
      if (st.sale) drawReceipt();
      qrDetector().then(() => { $('decoder').textContent = t(st.detector ? 'sb_decoder_native' : 'sb_decoder_jsqr'); });
    });
  }

  document.addEventListener('DOMContentLoaded', async () => {
    wire();
    await SW.start();
    await loadStores();
    await qrDetector();
  });
})();
