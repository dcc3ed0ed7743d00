/* kith.js: for a business's own pages. Keeps ref and kith_click from the address as first-party
   cookies (kith_code, kith_ref), fills input[name=kith_code] and input[name=kith_ref], and mounts
   a share hub in a self-sizing iframe. <script src=".../kith.js" data-cookie-days="30"
   data-consent="required"> writes nothing until kith.consent(true). No dependencies. */
(function (w, d) {
  'use strict';
  var s = d.currentScript, at = function (n) { return s ? s.getAttribute(n) : null; };
  var days = parseInt(at('data-cookie-days'), 10) || 30;
  var dom = at('data-cookie-domain');
  var base = s ? s.src.replace(/\/kith\.js(\?.*)?$/, '') : '';
  var on = at('data-consent') !== 'required';
  var q = new URLSearchParams(location.search);
  function ok(v) { return v && /^[A-Za-z0-9_-]{1,64}$/.test(v) ? v : null; }
  var code = ok(q.get('ref')), click = ok(q.get('kith_click'));

  function get(n) {
    var m = d.cookie.match(new RegExp('(?:^|; )' + n + '=([^;]*)'));
    return m ? ok(decodeURIComponent(m[1])) : null;
  }
  function put(n, v, age) {
    d.cookie = n + '=' + v + '; Max-Age=' + age + '; Path=/; SameSite=Lax' +
      (dom ? '; Domain=' + dom : '') + (location.protocol === 'https:' ? '; Secure' : '');
  }
  function attribution() {
    return { ref: code || get('kith_code'), click_id: click || get('kith_ref') };
  }
  function keep() {
    if (!on) return;
    if (code) put('kith_code', code, days * 86400);
    if (click) put('kith_ref', click, days * 86400);
  }
  function fill() {
    if (!on) return;
    var a = attribution(), f = { kith_code: a.ref, kith_ref: a.click_id };
    Object.keys(f).forEach(function (n) {
      if (!f[n]) return;
      var els = d.querySelectorAll('input[name=' + n + ']');
      for (var i = 0; i < els.length; i++) els[i].value = f[n];
    });
  }
  function ready(fn) {
    if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', fn); else fn();
  }
  function consent(yes) {
    on = !!yes;
    if (on) { keep(); ready(fill); }
    else { put('kith_code', '', 0); put('kith_ref', '', 0); }
  }
  function share(el, opts) {
    if (typeof el === 'string') el = d.querySelector(el);
    if (!el || !opts || !opts.token) throw new Error('kith.share(element, {token}) needs both');
    var f = d.createElement('iframe');
    f.src = base + '/p/' + encodeURIComponent(opts.token) + '?embed=1';
    f.title = opts.title || 'Your share page';
    f.setAttribute('loading', 'lazy');
    f.style.cssText = 'width:100%;border:0;display:block;height:' + (opts.height || 640) + 'px';
    var origin = base ? new URL(base, location.href).origin : location.origin;
    w.addEventListener('message', function (e) {
      var m = e.data;
      if (e.source === f.contentWindow && e.origin === origin && m && m.kith === 'hub-height' &&
          m.height > 0) f.style.height = Math.min(m.height, 20000) + 'px';
    });
    el.appendChild(f);
    return f;
  }

  keep();
  ready(fill);
  w.kith = { attribution: attribution, share: share, consent: consent };
})(window, document);
