// Shared by the sandbox's pages: texts in Kazakh and Russian (from
// locales/sandbox.*.toml, served by /sandbox/api/texts), calls to the API, the
// clock bar with the time controls, and money as people read it.
'use strict';

const SW = (() => {
  const state = { lang: 'kk', texts: {}, listeners: [], clock: null, clockAt: 0 };

  function initialLang() {
    const q = new URLSearchParams(location.search).get('lang');
    if (q === 'kk' || q === 'ru') return q;
    try {
      const s = localStorage.getItem('sw-lang');
      if (s === 'kk' || s === 'ru') return s;
    } catch (e) { /* storage may be off */ }
    return (navigator.language || '').toLowerCase().startsWith('ru') ? 'ru' : 'kk';
  }

  // t renders message id with data: "{Field}" in the text is replaced.
  function t(id, data) {
    let s = state.texts[id];
    if (s === undefined) return id;
    if (data) {
      for (const [k, v] of Object.entries(data)) s = s.split('{' + k + '}').join(String(v));
    }
    return s;
  }

  class APIError extends Error {
    constructor(status, body) {
      super((body && (body.detail || body.error)) || ('HTTP ' + status));
      this.status = status;
      this.body = body || {};
      this.code = this.body.code || '';
    }
  }

  // api calls the server; a JSON body is sent as JSON; errors throw APIError.
  async function api(method, path, body, headers, signal) {
    const opts = { method, headers: Object.assign({}, headers || {}), signal };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new APIError(0, { error: t('sb_error_network') });
    }
    if (res.status === 204) return null;
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
    if (!res.ok) throw new APIError(res.status, data);
    return data;
  }

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids.flat(Infinity)) {
      if (k === null || k === undefined || k === false) continue;
      e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return e;
  }

  // money shows tiyn as "17 300 ₸" or "4 325,50 ₸", no-break spaces, like the bot.
  function money(tiyn) {
    const neg = tiyn < 0;
    const a = Math.abs(tiyn);
    let s = String(Math.floor(a / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0');
    const frac = a % 100;
    if (frac) s += ',' + String(frac).padStart(2, '0');
    return (neg ? '−' : '') + s + '\u00a0₸';
  }

  function percent(bp) {
    const s = (bp / 100).toFixed(2).replace(/\.?0+$/, '').replace('.', ',');
    return s + '\u00a0%';
  }

  function applyTexts(root) {
    root.querySelectorAll('[data-t]').forEach((e) => { e.textContent = t(e.dataset.t); });
    root.querySelectorAll('[data-tp]').forEach((e) => { e.placeholder = t(e.dataset.tp); });
    root.querySelectorAll('[data-tt]').forEach((e) => { e.title = t(e.dataset.tt); e.setAttribute('aria-label', t(e.dataset.tt)); });
  }

  async function setLang(lang) {
    state.texts = await api('GET', '/sandbox/api/texts?lang=' + lang);
    state.lang = lang;
    try { localStorage.setItem('sw-lang', lang); } catch (e) { /* ignore */ }
    document.documentElement.lang = lang;
    applyTexts(document);
    document.querySelectorAll('.langs button').forEach((b) => b.classList.toggle('active', b.dataset.lang === lang));
    const page = document.body.dataset.page;
    document.title = t(page === 'cashier' ? 'sb_cashier_title' : 'sb_nav_chat') + ' · ' + t('sb_title');
    await refreshClock();
    state.listeners.forEach((f) => f());
  }

  // ---- the clock bar ----

  function pad(n) { return String(n).padStart(2, '0'); }

  // localHM shows an instant as HH:MM in the programme's zone.
  function localHM(rfc) {
    const off = state.clock ? state.clock.offset_min : 300;
    const d = new Date(Date.parse(rfc) + off * 60000);
    return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
  }

  function drawClock() {
    const c = state.clock;
    if (!c) return;
    // The service's clock runs at real speed between readings.
    const ms = Date.parse(c.now) + (Date.now() - state.clockAt) + c.offset_min * 60000;
    const d = new Date(ms);
    const hm = pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
    const day = c.now_text.replace(/\d\d:\d\d$/, '');
    document.getElementById('clock-now').textContent = day + hm;
  }

  async function refreshClock() {
    if (!document.getElementById('clock-now')) return;
    try {
      state.clock = await api('GET', '/sandbox/api/clock?lang=' + state.lang);
      state.clockAt = Date.now();
    } catch (e) {
      return;
    }
    const c = state.clock;
    drawClock();
    const me = document.getElementById('jump-month-end');
    const nm = document.getElementById('jump-next-month');
    me.querySelector('span').textContent = t('sb_jump_month_end', { Date: c.month_end.text });
    me.querySelector('small').textContent = t('sb_jump_month_end_note');
    me.disabled = !c.month_end.allowed;
    nm.querySelector('span').textContent = t('sb_jump_next_month', { Date: c.next_month.text });
    nm.querySelector('small').textContent = t('sb_jump_next_month_note');
    nm.disabled = !c.next_month.allowed;
    document.getElementById('clock-now').title = c.zone + ' · ' + c.program.name;
  }

  async function jump(to) {
    const buttons = document.querySelectorAll('.jump');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const c = await api('POST', '/sandbox/api/clock?lang=' + state.lang, { to });
      toast(t('sb_jumped', { Date: c.now_text }));
    } catch (e) {
      toast(e.status === 409 ? t('sb_jump_refused') : e.message);
    }
    await refreshClock();
  }

  let toastTimer = 0;
  // toast shows a short message over the page, as Telegram shows a button's answer.
  function toast(text, where) {
    let box = document.getElementById('toast');
    if (!box) {
      box = el('div', { id: 'toast', class: 'toast', role: 'status' });
      (where || document.body).append(box);
    }
    box.textContent = text;
    box.classList.remove('hidden');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => box.classList.add('hidden'), 3500);
  }

  // alertBox shows a message that needs an OK, as Telegram's show_alert does.
  function alertBox(text) {
    const back = el('div', { class: 'modal-back', role: 'dialog' });
    const close = () => back.remove();
    back.append(el('div', { class: 'modal' }, el('div', { text }), el('button', { class: 'btn', text: t('sb_ok'), onclick: close })));
    back.addEventListener('click', (e) => { if (e.target === back) close(); });
    document.body.append(back);
  }

  async function start() {
    document.querySelectorAll('.langs button').forEach((b) => b.addEventListener('click', () => setLang(b.dataset.lang)));
    const me = document.getElementById('jump-month-end');
    if (me) {
      me.addEventListener('click', () => jump('month-end'));
      document.getElementById('jump-next-month').addEventListener('click', () => jump('next-month'));
      setInterval(drawClock, 1000);
      setInterval(refreshClock, 30000);
    }
    await setLang(initialLang());
    document.body.classList.remove('loading');
  }

  return {
    t, api, el, money, percent, toast, localHM, alertBox, start, refreshClock, APIError,
    lang: () => state.lang,
    onLang: (f) => state.listeners.push(f),
  };
})();
