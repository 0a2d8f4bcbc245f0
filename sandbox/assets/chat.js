// The web chat: plays a Telegram user on the fake Bot API and draws exactly
// what the bot sent that user (messages as edited, deletions, reply and
// inline keyboards, photos), long-polling the server for changes.
'use strict';

(() => {
  const { t, api, el } = SW;
  const $ = (id) => document.getElementById(id);
  const st = {
    people: [], cities: [], current: 0, view: null, abort: null,
    seenAnswers: new Set(), firstView: true,
  };

  function cityName(id) {
    const c = st.cities.find((x) => x.id === id);
    if (!c) return id;
    return SW.lang() === 'kk' ? c.name_kk : c.name_ru;
  }

  function person(id) { return st.people.find((p) => p.id === id); }

  // phoneText groups a Kazakh number as people write it: +7 701 000 00 10.
  function phoneText(e164) {
    const m = /^\+7(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(e164 || '');
    return m ? '+7 ' + m[1] + ' ' + m[2] + ' ' + m[3] + ' ' + m[4] : e164;
  }

  // ---- the people list ----

  async function loadPeople() {
    const r = await api('GET', '/sandbox/api/people');
    st.people = r.people || [];
    st.cities = r.cities || [];
    drawPeople();
  }

  function drawPeople() {
    const list = $('people-list');
    list.textContent = '';
    for (const c of st.cities) {
      const ps = st.people.filter((p) => p.city === c.id);
      if (!ps.length) continue;
      list.append(el('h3', { text: cityName(c.id) }));
      for (const p of ps) {
        const badges = [];
        if (p.prelinked) badges.push(el('span', { class: 'badge linked', text: t('sb_prelinked') }));
        else if (p.talked) badges.push(el('span', { class: 'badge talked', text: t('sb_talked') }));
        list.append(el('button', {
          type: 'button', class: 'person' + (p.id === st.current ? ' active' : ''), dataset: { id: String(p.id) },
          onclick: () => open(p.id),
        },
        el('div', { class: 'name' }, p.name, badges),
        el('div', { class: 'meta', text: (p.applicant ? t('sb_applicant') : t('sb_member')) + ' · ' + t('sb_family', { Size: p.family_size, Minors: p.minors }) }),
        el('div', { class: 'ids' }, el('span', { text: t('sb_phone') + ' ' + phoneText(p.phone) }), el('span', { text: t('sb_iin') + ' ' + p.iin }))));
      }
    }
  }

  // ---- opening a chat ----

  function open(id) {
    if (st.abort) st.abort.abort();
    st.current = id;
    st.view = null;
    st.firstView = true;
    history.replaceState(null, '', '#chat=' + id);
    $('layout').classList.add('chatting');
    document.querySelectorAll('.person').forEach((b) => b.classList.toggle('active', Number(b.dataset.id) === id));
    $('wall').textContent = '';
    $('keyboard').classList.add('hidden');
    closePopup();
    poll(id);
  }

  async function poll(id) {
    const ctrl = new AbortController();
    st.abort = ctrl;
    let version = '';
    while (st.current === id && !ctrl.signal.aborted) {
      try {
        const q = '?lang=' + SW.lang() + (version ? '&since=' + encodeURIComponent(version) : '');
        const v = await api('GET', '/sandbox/api/chats/' + id + q, undefined, undefined, ctrl.signal);
        if (st.current !== id || ctrl.signal.aborted) return;
        version = v.version;
        draw(v);
      } catch (e) {
        if (e.name === 'AbortError') return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  // ---- drawing a chat ----

  function nearBottom(w) { return w.scrollHeight - w.scrollTop - w.clientHeight < 80; }

  function draw(v) {
    v.messages = v.messages || [];
    const wall = $('wall');
    const stick = !st.view || nearBottom(wall) || v.messages.length > st.view.messages.length;
    st.view = v;
    const p = person(v.user.id);
    $('who').textContent = t('sb_you_are', { Name: p ? p.name : t('sb_not_in_registry', { Phone: phoneText(v.user.phone) }) });
    wall.textContent = '';
    if (!v.messages.length) {
      wall.append(el('div', { class: 'empty' },
        el('div', { text: t('sb_start_intro') }),
        el('button', { type: 'button', class: 'btn', id: 'start-btn', text: t('sb_start'), onclick: () => sendText('/start') })));
    }
    let day = '';
    for (const m of v.messages) {
      if (m.day !== day) {
        day = m.day;
        wall.append(el('div', { class: 'day' }, el('span', { text: day })));
      }
      wall.append(message(m));
    }
    drawKeyboard(v.keyboard);
    $('menu-btn').classList.toggle('hidden', !(v.commands && v.commands.length));
    answers(v.answers || []);
    if (stick) wall.scrollTop = wall.scrollHeight;
    const pp = person(v.user.id);
    if (pp && !pp.talked && v.messages.length) {
      pp.talked = true;
      drawPeople();
    }
  }

  function message(m) {
    const foot = el('span', { class: 'foot' }, (m.edited ? t('sb_edited') + ' ' : '') + m.time);
    const box = el('div', { class: 'msg ' + m.from, dataset: { id: String(m.id), kind: m.kind } });
    let bubble;
    switch (m.kind) {
      case 'photo':
        bubble = el('div', { class: 'bubble photo' },
          el('img', { src: m.photo, alt: 'QR', draggable: 'false' }),
          m.text ? el('div', { class: 'caption', text: m.text }) : null,
          m.protected ? el('span', { class: 'protected', text: t('sb_protected') }) : null,
          foot);
        break;
      case 'contact':
        bubble = el('div', { class: 'bubble' }, el('span', { class: 'tag', text: '📱 ' + t('sb_contact') }), m.text, foot);
        break;
      case 'location':
        bubble = el('div', { class: 'bubble' }, el('span', { class: 'tag', text: '📍 ' + t('sb_location') }), m.text, foot);
        break;
      default:
        bubble = el('div', { class: 'bubble' }, m.text, foot);
    }
    box.append(bubble);
    if (m.inline && m.inline.length) {
      const kb = el('div', { class: 'inline' });
      for (const row of m.inline) {
        kb.append(el('div', { class: 'row' }, row.map((b) => (b.url
          ? el('a', { class: 'url', href: b.url, target: '_blank', rel: 'noopener noreferrer', text: b.text + ' ↗' })
          : el('button', { type: 'button', text: b.text, dataset: { data: b.data }, onclick: () => press(m.id, b.data) })))));
      }
      box.append(kb);
    }
    return box;
  }

  function drawKeyboard(rows) {
    const kb = $('keyboard');
    kb.textContent = '';
    kb.classList.toggle('hidden', !(rows && rows.length));
    for (const row of rows || []) {
      kb.append(el('div', { class: 'row' }, row.map((k) => el('button', {
        type: 'button', class: (k.contact || k.location) ? 'request' : '', text: k.text,
        onclick: () => (k.contact ? shareContact() : k.location ? shareLocation('') : sendText(k.text)),
      }))));
    }
  }

  // answers shows the bot's answers to button presses that are new since the
  // chat was opened: a toast, or a box with OK when the bot asked for one.
  function answers(list) {
    for (const a of list) {
      if (st.seenAnswers.has(a.id)) continue;
      st.seenAnswers.add(a.id);
      if (st.firstView) continue;
      if (a.alert) SW.alertBox(a.text); else SW.toast(a.text, $('chat'));
    }
    st.firstView = false;
  }

  // ---- acting as the user ----

  async function act(path, body) {
    if (!st.current) return;
    try {
      await api('POST', '/sandbox/api/chats/' + st.current + '/' + path + '?lang=' + SW.lang(), body);
    } catch (e) {
      SW.toast(e.message, $('chat'));
    }
  }

  function sendText(text) { return act('text', { text }); }
  function shareContact() { closePopup(); return act('contact'); }
  function shareLocation(city) { closePopup(); return act('location', { city }); }
  function press(msg, data) { return act('press', { message: msg, data }); }

  function closePopup() { $('popup').classList.add('hidden'); }

  function popup(items) {
    const box = $('popup');
    if (!box.classList.contains('hidden') && box.dataset.kind === items.kind) {
      closePopup();
      return;
    }
    box.dataset.kind = items.kind;
    box.textContent = '';
    for (const it of items.list) box.append(el('button', { type: 'button', onclick: () => { closePopup(); it.run(); } }, it.label, it.small ? el('small', { text: it.small }) : null));
    box.classList.remove('hidden');
  }

  function attachMenu() {
    if (!st.view) return;
    const u = st.view.user;
    const list = [{ label: t('sb_share_contact', { Phone: phoneText(u.phone) }), run: shareContact }];
    for (const c of st.cities) list.push({ label: t('sb_share_location', { City: cityName(c.id) }), run: () => shareLocation(c.id) });
    const p = person(u.id);
    if (p) {
      list.push({ label: '✎ ' + t('sb_insert_iin'), small: p.iin, run: () => { $('text').value = p.iin; $('text').focus(); } });
    }
    popup({ kind: 'attach', list });
  }

  function commandsMenu() {
    if (!st.view) return;
    popup({ kind: 'menu', list: (st.view.commands || []).map((c) => ({ label: '/' + c.command, small: c.description, run: () => sendText('/' + c.command) })) });
  }

  function wire() {
    $('composer').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $('text');
      const text = input.value.trim();
      if (!text || !st.current) return;
      input.value = '';
      sendText(text);
    });
    $('attach-btn').addEventListener('click', attachMenu);
    $('menu-btn').addEventListener('click', commandsMenu);
    $('back').addEventListener('click', () => {
      $('layout').classList.remove('chatting');
      closePopup();
    });
    $('phone-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const err = $('phone-error');
      err.classList.add('hidden');
      try {
        const r = await api('POST', '/sandbox/api/people?lang=' + SW.lang(), { phone: $('phone-input').value });
        open(r.id);
      } catch (ex) {
        err.textContent = ex.status === 400 ? t('sb_bad_phone') : ex.message;
        err.classList.remove('hidden');
      }
    });
    SW.onLang(() => {
      drawPeople();
      if (st.current) open(st.current);
    });
  }

  document.addEventListener('DOMContentLoaded', async () => {
    wire();
    await SW.start();
    await loadPeople();
    const m = /#chat=(\d+)/.exec(location.hash);
    if (m) open(Number(m[1]));
  });
})();
