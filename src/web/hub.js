/* hub.js: brings the share hub's controls to life (copy, the device's share sheet, preferences,
   download, erase) and, inside an iframe, tells the parent page how tall the hub is. The page
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
        if (!r.ok) throw new Error((j.error && j.error.message) || ('error ' + r.status));
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
      copy(input.value, b.getAttribute('data-copy') === 'code' ? 'Code' : 'Link');
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
