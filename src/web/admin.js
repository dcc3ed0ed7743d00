/* kith dashboard, the shared core: one page per address under /admin/, drawn from the /v1 API
 * with the session cookie. No framework, no request to another host; text goes in with
 * textContent only. The screens live in admin_*.js, each registering itself in K.screens;
 * this file holds what they share (elements, the API, forms, tables), sign-in, the first run
 * and the router, and starts once every deferred script has run. */
(function () {
  "use strict";
  var main = document.getElementById("main");
  var nav = document.getElementById("nav");
  var toastEl = document.getElementById("toast");
  var K = window.kithAdmin = { screens: {}, state: { role: null, programs: [], program: null } };
  var state = K.state;

  function csrf() { return localStorage.getItem("kith_csrf") || ""; }

  function h(tag, attrs, kids) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else if (k === "value") el.value = v;
      else el.setAttribute(k, v === true ? "" : v);
    });
    (kids || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    });
    return el;
  }

  var toastTimer = null;
  function toast(msg) {
    toastEl.textContent = msg;
    toastEl.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toastEl.classList.remove("show"); }, 3000);
  }

  /* opts.raw: a string body sent as is with opts.type; answers JSON, or text (CSV). */
  function api(method, path, body, opts) {
    var o = { method: method, headers: {}, credentials: "same-origin" };
    if (method !== "GET") o.headers["X-Kith-CSRF"] = csrf();
    if (opts && opts.raw !== undefined) {
      o.headers["Content-Type"] = opts.type;
      o.body = opts.raw;
    } else if (body !== undefined) {
      o.headers["Content-Type"] = "application/json";
      o.body = JSON.stringify(body);
    }
    return fetch(path, o).then(function (r) {
      var ct = r.headers.get("Content-Type") || "";
      var p = ct.indexOf("json") >= 0 ? r.json() : r.text();
      return p.then(function (data) {
        if (r.status === 401 && path !== "/admin/login") { localStorage.removeItem("kith_csrf"); showLogin(); throw new Error("signed out"); }
        if (!r.ok) {
          var e = new Error(data && data.error ? data.error.message : "request failed (" + r.status + ")");
          e.status = r.status;
          e.body = data;
          throw e;
        }
        return data;
      });
    });
  }

  function fail(e) { if (e.message !== "signed out") toast(e.message); }

  /* The nav link of the section an address belongs to is the current page. */
  var SECTION = { keys: "integrations", payouts: "rewards", "new-resource": "resources", "new-experiment": "experiments" };
  function screen(title, kids) {
    main.replaceChildren(h("h1", { text: title }));
    kids.forEach(function (k) { if (k) main.appendChild(k); });
    document.title = title + " · kith";
    var first = location.pathname.split("/")[2] || "overview";
    var cur = "/admin/" + (SECTION[first] || first);
    Array.prototype.forEach.call(nav.querySelectorAll("a"), function (a) {
      if (a.getAttribute("href") === cur) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    main.focus();
  }

  /* A row of links between the screens of one section; the current one is marked. */
  function tabs(label, links) {
    return h("nav", { class: "tabs", "aria-label": label }, links.map(function (l) {
      return h("a", { href: l[0], text: l[1], "aria-current": location.pathname.replace(/\/+$/, "") === l[0] ? "page" : null });
    }));
  }

  var seq = 0;
  function field(label, input, hint) {
    var id = "f-" + (++seq);
    input.id = id;
    var hintEl = hint ? h("p", { class: "hint", id: id + "-hint", text: hint }) : null;
    if (hintEl) input.setAttribute("aria-describedby", id + "-hint");
    return h("div", { class: "field" }, [h("label", { for: id, text: label }), input, hintEl]);
  }

  function check(label, input, hint) {
    var id = "f-" + (++seq);
    input.id = id;
    return h("div", { class: "field check" }, [input, h("label", { for: id, text: label }),
      hint ? h("p", { class: "hint", text: hint }) : null]);
  }

  function input(type, value, attrs) {
    return h("input", Object.assign({ type: type, value: value === null || value === undefined ? "" : String(value) }, attrs || {}));
  }
  function checkbox(on, attrs) {
    var c = h("input", Object.assign({ type: "checkbox" }, attrs || {}));
    c.checked = !!on;
    return c;
  }
  function select(options, value, attrs) {
    return h("select", attrs || {}, options.map(function (o) {
      var v = Array.isArray(o) ? o[0] : o, t = Array.isArray(o) ? o[1] : o;
      return h("option", { value: v, text: t, selected: v === value });
    }));
  }
  function numOrNull(el) { return el.value === "" ? null : Number(el.value); }

  function go(path) { history.pushState(null, "", path); route(); }

  function when(t) { return t ? new Date(t).toLocaleString() : "—"; }

  function table(cols, rows, empty, caption) {
    if (!rows.length) return h("p", { class: "empty", text: empty });
    /* On a phone each row is drawn as a small card, each cell with its column's name (CSS);
     * the roles keep it a table for assistive technology whatever its display. */
    return h("div", { class: "table-wrap" }, [h("table", { role: "table" }, [
      caption ? h("caption", { class: "sr-only", text: caption }) : null,
      h("thead", { role: "rowgroup" }, [h("tr", { role: "row" }, cols.map(function (c) { return h("th", { scope: "col", role: "columnheader" }, [c[0] || h("span", { class: "sr-only", text: "Actions" })]); }))]),
      h("tbody", { role: "rowgroup" }, rows.map(function (r) {
        return h("tr", { role: "row" }, cols.map(function (c) {
          var v = c[1](r);
          return h("td", { role: "cell", "data-label": c[0] || null, class: c[0] ? null : "cell-actions" }, [v === null || v === undefined || v === "" ? (c[0] ? "—" : "") : v]);
        }));
      }))])]);
  }

  function facts(pairs) {
    var dl = h("dl", { class: "facts" });
    pairs.forEach(function (f) {
      dl.appendChild(h("dt", { text: f[0] }));
      var v = f[1];
      dl.appendChild(h("dd", {}, [v instanceof Node ? v : (v === null || v === undefined || v === "" ? "—" : String(v))]));
    });
    return dl;
  }

  /* The program's people by id ({first_name, email, external_id}), for tables of rewards and
   * activities, which name a participant by id only. Kept for a few seconds. */
  var peopleCache = { program: null, at: 0, p: null };
  function people() {
    if (peopleCache.program === state.program && Date.now() - peopleCache.at < 5000) return peopleCache.p;
    peopleCache = { program: state.program, at: Date.now(), p: api("GET", "/v1/participants?" + pq() + "&limit=500").then(function (l) {
      var m = {};
      l.data.forEach(function (x) { m[x.id] = x; });
      return m;
    }) };
    return peopleCache.p;
  }
  function person(map, id) {
    var x = map[id];
    return h("a", { href: "/admin/participants/" + id, text: x ? (x.first_name || x.email || x.external_id) : id });
  }

  function pq() { return "program=" + encodeURIComponent(state.program); }
  function owner() { return state.role === "owner"; }
  function money(amount, currency) {
    if (amount === null || amount === undefined) return null;
    return (amount / 100).toFixed(2) + " " + (currency || "");
  }
  function readOnlyNote() {
    return owner() ? null : h("p", { class: "hint notice-soft", text: "You are signed in as a reviewer: you can read everything here; an owner makes changes." });
  }

  /* The program's settings, fresh, then PATCH with body; resolves to the new program. */
  function saveProgram(body) {
    return api("PATCH", "/v1/programs/" + encodeURIComponent(state.program), body).then(function (np) {
      state.programs = state.programs.map(function (x) { return x.id === np.id ? np : x; });
      toast("Saved");
      return np;
    });
  }

  /* ---- sign-in ---- */
  function showLogin() {
    nav.hidden = true;
    document.getElementById("logout").hidden = true;
    var email = h("input", { type: "email", autocomplete: "username", required: true });
    var pw = h("input", { type: "password", autocomplete: "current-password", required: true });
    var msg = h("p", { class: "error", role: "alert" });
    var form = h("form", { class: "card narrow", onsubmit: function (ev) {
      ev.preventDefault();
      msg.textContent = "";
      api("POST", "/admin/login", { email: email.value, password: pw.value }).then(function (d) {
        localStorage.setItem("kith_csrf", d.csrf);
        state.role = d.role;
        if (location.pathname === "/admin" || location.pathname === "/admin/") history.replaceState(null, "", "/admin/overview");
        start();
      }).catch(function (e) { msg.textContent = e.status === 429 ? "Too many tries. Wait a quarter of an hour and try again." : "That e-mail and password do not match an account."; });
    } }, [field("E-mail", email), field("Password", pw), msg,
      h("button", { type: "submit", class: "button", text: "Sign in" })]);
    screen("Sign in", [form, h("p", { class: "hint", text: "Accounts are made on the server: kith admin create --email you@example.com" })]);
  }

  function start() {
    api("GET", "/v1/admin/session").then(function (s) {
      state.role = s.role;
      document.body.dataset.role = s.role;
      return api("GET", "/v1/programs?limit=500");
    }).then(function (list) {
      state.programs = list.data || [];
      var saved = localStorage.getItem("kith_program");
      state.program = state.programs.some(function (p) { return p.id === saved; }) ? saved : (state.programs[0] || {}).id || null;
      nav.hidden = false;
      document.getElementById("logout").hidden = false;
      route();
    }).catch(fail);
  }

  function picker() {
    if (state.programs.length < 2) return null;
    var sel = h("select", { onchange: function () { state.program = sel.value; localStorage.setItem("kith_program", sel.value); route(); } },
      state.programs.map(function (p) { return h("option", { value: p.id, selected: p.id === state.program, text: p.name }); }));
    return h("div", { class: "picker" }, [field("Program", sel)]);
  }

  /* ---- first run, and a new program later ---- */
  function firstRun() {
    if (!owner()) { screen("Nothing here yet", [h("p", { text: "No program exists yet. An owner creates the first one." })]); return; }
    var later = state.programs.length > 0;
    var name = h("input", { required: true, placeholder: "Wellness Circle" });
    var id = h("input", { required: true, pattern: "[a-z0-9-]{1,40}", placeholder: "wellness" });
    var dest = h("input", { type: "url", required: true, placeholder: "https://example.com/join" });
    name.addEventListener("input", function () { id.value = name.value.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40); });
    screen(later ? "New program" : "Welcome to kith", [
      h("p", { class: "lead", text: later ? "Describe the new program; you can shape its rewards and settings next." : "Two steps: describe your program, then add the first person who will share it." }),
      h("form", { class: "card", onsubmit: function (ev) {
        ev.preventDefault();
        api("POST", "/v1/programs", { id: id.value, name: name.value, destination_url: dest.value }).then(function (p) {
          state.programs = state.programs.concat([p]); state.program = p.id;
          localStorage.setItem("kith_program", p.id);
          if (later) { toast("Program created"); go("/admin/settings"); } else firstParticipant();
        }).catch(fail);
      } }, [h("h2", { text: later ? "The program" : "1. Your program" }), field("Name", name), field("Short id", id, "Lower-case letters, digits and dashes; it cannot change."),
        field("Where friends land", dest, "The page a shared link leads to."), h("button", { class: "button", type: "submit", text: "Create the program" })])]);
  }

  function firstParticipant() {
    var fname = h("input", { required: true, autocomplete: "off" });
    var email = h("input", { type: "email", autocomplete: "off" });
    screen("Welcome to kith", [h("form", { class: "card", onsubmit: function (ev) {
      ev.preventDefault();
      api("POST", "/v1/participants", { program: state.program, external_id: "dash-" + Date.now(), first_name: fname.value, email: email.value || undefined }).then(function (p) {
        screen("You are set up", [h("div", { class: "card" }, [h("p", { text: p.first_name + "'s link is ready to share:" }),
          h("p", { class: "secret-line" }, [h("code", { text: p.share_url })]),
          h("a", { class: "button", href: "/admin/overview", text: "Go to the overview" })])]);
      }).catch(fail);
    } }, [h("h2", { text: "2. The first person to share it" }), field("First name", fname), field("E-mail (optional)", email),
      h("button", { class: "button", type: "submit", text: "Add them" })])]);
  }

  function route() {
    var parts = location.pathname.replace(/\/+$/, "").split("/").slice(2).map(decodeURIComponent);
    if (!state.program || parts[0] === "new") return firstRun();
    var page = parts[0] || "overview";
    (K.screens[page] || K.screens.overview)(parts[1]);
  }

  /* The program the dashboard is on, from the list it loaded ({} before it has one). */
  function program() {
    return state.programs.filter(function (p) { return p.id === state.program; })[0] || {};
  }

  Object.assign(K, { program: program, h: h, api: api, toast: toast, fail: fail, screen: screen, tabs: tabs, field: field, check: check,
    input: input, checkbox: checkbox, select: select, numOrNull: numOrNull, go: go, when: when, table: table,
    facts: facts, pq: pq, people: people, person: person, owner: owner, money: money, readOnlyNote: readOnlyNote, saveProgram: saveProgram, picker: picker });

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[href^='/admin']");
    if (!a || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    ev.preventDefault();
    go(a.getAttribute("href"));
  });
  window.addEventListener("popstate", route);
  document.getElementById("logout").addEventListener("click", function () {
    api("POST", "/admin/logout", {}).catch(function () {}).then(function () { localStorage.removeItem("kith_csrf"); showLogin(); });
  });
  /* The screens' scripts are deferred after this one: start once they have all run. A browser
   * holding no CSRF token from a sign-in has no session it could write with: the form at once,
   * without asking the server for a session it would refuse (a 401, an error in the console). */
  document.addEventListener("DOMContentLoaded", function () {
    if (!csrf()) { showLogin(); return; }
    fetch("/v1/admin/session", { credentials: "same-origin" }).then(function (r) {
      if (r.ok) { start(); return; }
      localStorage.removeItem("kith_csrf");
      showLogin();
    }, showLogin);
  });
})();
