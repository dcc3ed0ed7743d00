/* hub.js: brings the share hub's controls to life (copy, the device's share sheet, preferences,
   claim steps for gifts and experiences, download, erase) and, inside an iframe, tells the parent page how tall the hub is. The page
   already works without it: code, link, QR and the messages are plain HTML. The hub's token is
   read from the address (/p/<token>) and sent only to this server's /v1/hub routes. */
(function () {
  'use strict';
  var token = decodeURIComponent(location.pathname.split('/').pop() || '');
  var toastTimer;

  function $(sel) { return document.querySelector(sel); }
  function toast(text) {
    var t = $('#toast');
    if (!t) return;
    t.textContent = text;
    t.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.classList.remove('show'); }, 2200);
  }
  function api(method, path, body) {
    var opts = { method: method, headers: { 'Authorization': 'Hub ' + token }, credentials: 'omit' };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch('/v1/hub/' + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) {
          var e = new Error((j.error && j.error.message) || ('error ' + r.status));
          e.param = (j.error && j.error.param) || '';
          e.status = r.status;
          throw e;
        }
        return j;
      });
    });
  }
  function copy(text, what) {
    function done() { toast(what + ' copied'); }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text) && done(); });
    } else if (fallback(text)) {
      done();
    } else {
      toast('Select the text and copy it');
    }
  }
  function fallback(text) {
    var ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.className = 'offscreen';
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }

  document.addEventListener('click', function (e) {
    var b = e.target.closest('button');
    if (!b) return;
    if (b.hasAttribute('data-copy')) {
      var input = document.getElementById(b.getAttribute('data-copy'));
      input.select();
      copy(input.value, b.getAttribute('data-what') ||
        (b.getAttribute('data-copy') === 'code' ? 'Code' : 'Link'));
    } else if (b.hasAttribute('data-copy-text')) {
      copy(b.getAttribute('data-copy-text'), 'Message');
    } else if (b.hasAttribute('data-native-share')) {
      navigator.share({ text: b.getAttribute('data-text') }).catch(function () {});
    }
  });

  var native = $('[data-native-share]');
  if (native && navigator.share) native.hidden = false;
  var copyMsg = $('[data-copy-text]');
  if (copyMsg) copyMsg.hidden = false;

  var prefs = $('#prefs');
  if (prefs) {
    prefs.addEventListener('submit', function (e) {
      e.preventDefault();
      var status = $('#prefs-status');
      var body = { leaderboard_opt_in: prefs.elements.leaderboard_opt_in.checked };
      if (prefs.elements.digest) {
        var asks = prefs.querySelector('input[name=asks]:checked');
        body.preferences = {
          digest: prefs.elements.digest.checked,
          spotlight_opt_in: prefs.elements.spotlight_opt_in.checked
        };
        if (asks) body.preferences.asks = asks.value;
      }
      status.textContent = 'Saving…';
      api('PATCH', 'me', body).then(function () {
        status.textContent = 'Saved. Thank you.';
      }, function (err) {
        status.textContent = 'Not saved: ' + err.message;
      });
    });
  }


  /* Claim steps (section 25): the form is the program's claim form, drawn by the server; the
     engine checks every answer, and its errors are shown next to the field they name. */
  var CLAIMED = 'Details received: we are getting it ready for you.';
  function claimParts(form) {
    var n = form.id.replace(/-form$/, '');
    return { n: n, done: $('#' + n + '-done'), answers: $('#' + n + '-answers'),
      edit: document.querySelector('[data-claim-edit="' + n.replace(/^claim-/, '') + '"]'),
      status: $('#' + n + '-status') };
  }
  function fieldsOf(form) {
    return Array.prototype.filter.call(form.querySelectorAll('[data-param]'), function (el) {
      return el.getAttribute('data-param').split('.').length === 2;
    });
  }
  function answersOf(form) {
    var answers = {};
    fieldsOf(form).forEach(function (el) {
      var name = el.getAttribute('data-param').split('.')[1];
      if (el.hasAttribute('data-address')) {
        var addr = {}, any = false;
        el.querySelectorAll('input[data-part]').forEach(function (i) {
          var v = i.value.trim();
          if (i.getAttribute('data-part') === 'country') v = v.toUpperCase();
          if (v) { addr[i.getAttribute('data-part')] = v; any = true; }
        });
        answers[name] = any ? addr : null;
      } else if (el.tagName === 'FIELDSET') {
        var c = el.querySelector('input:checked');
        answers[name] = c ? c.value : null;
      } else {
        answers[name] = el.value.trim() || null;
      }
    });
    return answers;
  }
  function clearErrors(form) {
    form.querySelectorAll('.field-error').forEach(function (p) { p.hidden = true; p.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach(function (el) {
      el.removeAttribute('aria-invalid');
      var hint = el.getAttribute('data-hint');
      if (hint) el.setAttribute('aria-describedby', hint); else el.removeAttribute('aria-describedby');
    });
  }
  /* The API's words with the person's names for the fields: "'line1' is required" becomes
     "Please fill in Address line 1"; other messages name the field by its label. */
  function personWords(form, message, target) {
    var labels = {};
    form.querySelectorAll('[data-label]').forEach(function (el) {
      var parts = el.getAttribute('data-param').split('.');
      labels[parts[parts.length - 1]] = el.getAttribute('data-label');
    });
    var required = /^'([a-z0-9_]+)' is required\.?$/.exec(message);
    if (required && target) {
      if (target.hasAttribute('data-address')) return 'Please fill in the address.';
      if (target.tagName === 'FIELDSET') return 'Please choose one.';
      return 'Please fill in ' + (labels[required[1]] || required[1]) + '.';
    }
    if (/one of the form's choices/.test(message)) return 'Please choose one of the choices.';
    if (/ISO 3166-1/.test(message)) return 'Please use the two-letter country code, such as GB.';
    var text = message.replace(/'([a-z0-9_]+)'/g, function (m, name) { return labels[name] || name; });
    return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
  }
  function showError(form, err, status) {
    var param = err.param || '', slot = null, target = null;
    while (param && !slot) {
      slot = form.querySelector('[data-error-for="' + param + '"]');
      target = form.querySelector('[data-param="' + param + '"]');
      if (!slot) param = param.indexOf('.') > 0 ? param.slice(0, param.lastIndexOf('.')) : '';
    }
    if (!slot || param === 'answers') {
      status.textContent = 'Not sent: ' + personWords(form, err.message);
      return;
    }
    status.textContent = 'Not sent yet: please check the highlighted field.';
    slot.textContent = personWords(form, err.message, target);
    slot.hidden = false;
    /* The inputs the error is about: a part of an address, every required part of a missing
       address, every radio of a choice, or the text field itself. */
    var inputs = [target];
    if (target.hasAttribute('data-address')) inputs = target.querySelectorAll('input[aria-required]');
    else if (target.tagName === 'FIELDSET') inputs = target.querySelectorAll('input');
    if (!inputs.length) inputs = target.querySelectorAll('input');
    Array.prototype.forEach.call(inputs, function (el) {
      el.setAttribute('aria-invalid', 'true');
      var hint = el.getAttribute('data-hint');
      el.setAttribute('aria-describedby', (hint ? hint + ' ' : '') + slot.id);
    });
    var focus = inputs[0];
    if (target.hasAttribute('data-address')) {
      focus = Array.prototype.filter.call(inputs, function (i) { return !i.value.trim(); })[0] || inputs[0];
    } else if (target.tagName === 'FIELDSET') {
      focus = target.querySelector('input:checked') || inputs[0];
    }
    focus.focus();
  }
  function answersList(form, answers) {
    var dl = document.createElement('dl');
    dl.className = 'answers';
    fieldsOf(form).forEach(function (el) {
      var name = el.getAttribute('data-param').split('.')[1], a = answers[name];
      if (a === null || a === undefined) return;
      var text = a;
      if (typeof a === 'object') {
        text = Array.prototype.map.call(el.querySelectorAll('input[data-part]'), function (i) {
          return a[i.getAttribute('data-part')];
        }).filter(function (v) { return v; }).join(', ');
      }
      var div = document.createElement('div'), dt = document.createElement('dt'), dd = document.createElement('dd');
      dt.textContent = el.getAttribute('data-label');
      dd.textContent = text;
      div.appendChild(dt);
      div.appendChild(dd);
      dl.appendChild(div);
    });
    if (dl.children.length) return dl;
    var p = document.createElement('p');
    p.className = 'note';
    p.textContent = 'Nothing more is needed from you: the team will be in touch.';
    return p;
  }
  document.querySelectorAll('form.claim-form').forEach(function (form) {
    var parts = claimParts(form);
    var claimed = form.getAttribute('data-claimed') === '1';
    form.hidden = claimed;
    if (parts.edit) {
      parts.edit.hidden = !claimed;
      parts.edit.addEventListener('click', function () {
        form.hidden = false;
        parts.edit.setAttribute('aria-expanded', 'true');
        form.querySelector('h3').focus();
      });
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var button = form.querySelector('button[type=submit]');
      clearErrors(form);
      parts.status.textContent = 'Sending…';
      button.disabled = true;
      api('POST', 'rewards/' + encodeURIComponent(form.getAttribute('data-reward')) + '/claim',
        { answers: answersOf(form) }).then(function (claim) {
        button.disabled = false;
        button.textContent = 'Save my details';
        parts.status.textContent = '';
        parts.answers.innerHTML = '';
        parts.answers.appendChild(answersList(form, claim.answers || {}));
        var state = form.closest('li') && form.closest('li').querySelector('.fulfil');
        if (state) state.textContent = CLAIMED;
        form.hidden = true;
        parts.done.hidden = false;
        if (parts.edit) { parts.edit.hidden = false; parts.edit.setAttribute('aria-expanded', 'false'); }
        $('#' + parts.n + '-done-h').focus();
        toast('Thank you: your details are on their way');
      }, function (err) {
        button.disabled = false;
        showError(form, err, parts.status);
      });
    });
  });

  var download = $('#download'), start = $('#erase-start'), box = $('#erase-confirm');
  var dataStatus = $('#data-status');
  if (download) {
    download.hidden = false;
    download.addEventListener('click', function () {
      api('GET', 'export').then(function (data) {
        var blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
        var a = document.createElement('a');
        a.href = URL.createObjectURL(blob);
        a.download = 'my-data.json';
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        dataStatus.textContent = 'Your data is downloading as my-data.json.';
      }, function (err) { dataStatus.textContent = 'Could not download: ' + err.message; });
    });
  }
  if (start && box) {
    start.hidden = false;
    start.addEventListener('click', function () {
      box.hidden = false;
      start.setAttribute('aria-expanded', 'true');
      $('#erase-h').focus();
    });
    $('#erase-no').addEventListener('click', function () {
      box.hidden = true;
      start.setAttribute('aria-expanded', 'false');
      start.focus();
    });
    $('#erase-yes').addEventListener('click', function () {
      api('POST', 'erase', { confirm: true }).then(function () {
        var main = $('#main');
        main.innerHTML = '';
        var done = document.createElement('section');
        done.className = 'panel done';
        done.setAttribute('tabindex', '-1');
        var h = document.createElement('h1');
        h.textContent = 'Your data has been erased';
        var p = document.createElement('p');
        p.textContent = 'Thank you for the friends you brought along. This page no longer works.';
        done.appendChild(h);
        done.appendChild(p);
        main.appendChild(done);
        done.focus();
      }, function (err) { dataStatus.textContent = 'Not erased: ' + err.message; });
    });
  }

  /* Inside kith.share()'s iframe: report the height whenever it changes. */
  if (document.body.getAttribute('data-embed') === '1' && window.parent !== window) {
    var last = 0;
    var report = function () {
      var h = Math.ceil(document.documentElement.scrollHeight);
      if (h !== last) {
        last = h;
        window.parent.postMessage({ kith: 'hub-height', height: h }, '*');
      }
    };
    if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
    window.addEventListener('load', report);
    report();
  }
})();
