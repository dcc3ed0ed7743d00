/* kith dashboard: one page per address under /admin/, drawn from the /v1 API with the session
 * cookie. No framework, no request to another host; text goes in with textContent only. */
(function () {
  "use strict";
  var main = document.getElementById("main");
  var nav = document.getElementById("nav");
  var toastEl = document.getElementById("toast");
  var state = { role: null, programs: [], program: null };

  function csrf() { return localStorage.getItem("kith_csrf") || ""; }

  function h(tag, attrs, kids) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : v);
    });
    (kids || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    });
    return el;
  }

  function toast(msg) {
    toastEl.textContent = msg;
    toastEl.classList.add("show");
    setTimeout(function () { toastEl.classList.remove("show"); }, 3000);
  }

  function api(method, path, body) {
    var opts = { method: method, headers: {}, credentials: "same-origin" };
    if (method !== "GET") opts.headers["X-Kith-CSRF"] = csrf();
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      var ct = r.headers.get("Content-Type") || "";
      var p = ct.indexOf("json") >= 0 ? r.json() : r.text();
      return p.then(function (data) {
        if (r.status === 401 && path !== "/admin/login") { showLogin(); throw new Error("signed out"); }
        if (!r.ok) {
          var e = new Error(data && data.error ? data.error.message : "request failed (" + r.status + ")");
          e.status = r.status;
          throw e;
        }
        return data;
      });
    });
  }

  function fail(e) { if (e.message !== "signed out") toast(e.message); }

  function screen(title, kids) {
    main.replaceChildren(h("h1", { text: title }));
    kids.forEach(function (k) { if (k) main.appendChild(k); });
    document.title = title + " · kith";
    Array.prototype.forEach.call(nav.querySelectorAll("a"), function (a) {
      if (a.getAttribute("href") === location.pathname) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    main.focus();
  }

  function field(label, input, hint) {
    var id = "f-" + Math.random().toString(36).slice(2);
    input.id = id;
    return h("div", { class: "field" }, [h("label", { for: id, text: label }), input,
      hint ? h("p", { class: "hint", text: hint }) : null]);
  }

  function go(path) { history.pushState(null, "", path); route(); }

  function when(t) { return t ? new Date(t).toLocaleString() : "—"; }

  function table(cols, rows, empty) {
    if (!rows.length) return h("p", { class: "empty", text: empty });
    return h("div", { class: "table-wrap" }, [h("table", {}, [
      h("thead", {}, [h("tr", {}, cols.map(function (c) { return h("th", { scope: "col", text: c[0] }); }))]),
      h("tbody", {}, rows.map(function (r) {
        return h("tr", {}, cols.map(function (c) {
          var v = c[1](r);
          return h("td", {}, [v === null || v === undefined ? "—" : v]);
        }));
      }))])]);
  }

  function pq() { return "program=" + encodeURIComponent(state.program); }

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
      return api("GET", "/v1/programs");
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
    return field("Program", sel);
  }

  /* ---- first run ---- */
  function firstRun() {
    if (state.role !== "owner") { screen("Nothing here yet", [h("p", { text: "No program exists yet. An owner creates the first one." })]); return; }
    var name = h("input", { required: true, placeholder: "Wellness Circle" });
    var id = h("input", { required: true, pattern: "[a-z0-9-]{1,40}", placeholder: "wellness" });
    var dest = h("input", { type: "url", required: true, placeholder: "https://example.com/join" });
    name.addEventListener("input", function () { id.value = name.value.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40); });
    screen("Welcome to kith", [
      h("p", { class: "lead", text: "Two steps: describe your program, then add the first person who will share it." }),
      h("form", { class: "card", onsubmit: function (ev) {
        ev.preventDefault();
        api("POST", "/v1/programs", { id: id.value, name: name.value, destination_url: dest.value }).then(function (p) {
          state.programs = [p]; state.program = p.id; firstParticipant();
        }).catch(fail);
      } }, [h("h2", { text: "1. Your program" }), field("Name", name), field("Short id", id, "Lower-case letters, digits and dashes; it cannot change."),
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

  /* ---- overview ---- */
  function pct(x) { return x === null || x === undefined ? "—" : Math.round(x * 1000) / 10 + "%"; }

  function chart(weeks) {
    var W = 640, H = 200, pad = 28, max = 1;
    weeks.forEach(function (w) { max = Math.max(max, w.signups, w.qualified); });
    var bw = (W - pad * 2) / weeks.length;
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("class", "chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "Signups and qualified referrals per week, last " + weeks.length + " weeks");
    weeks.forEach(function (w, i) {
      [["signups", "bar-a", 0], ["qualified", "bar-b", 1]].forEach(function (s) {
        var v = w[s[0]], bh = (H - pad * 2) * v / max;
        var r = document.createElementNS(ns, "rect");
        r.setAttribute("x", pad + i * bw + 4 + s[2] * (bw - 8) / 2);
        r.setAttribute("y", H - pad - bh);
        r.setAttribute("width", (bw - 8) / 2 - 2);
        r.setAttribute("height", Math.max(bh, 0.5));
        r.setAttribute("class", s[1]);
        svg.appendChild(r);
      });
      var t = document.createElementNS(ns, "text");
      t.setAttribute("x", pad + i * bw + bw / 2);
      t.setAttribute("y", H - 8);
      t.setAttribute("text-anchor", "middle");
      t.textContent = w.label;
      svg.appendChild(t);
    });
    return svg;
  }

  function overview() {
    var cards = h("div", { class: "stats" });
    var chartBox = h("div", { class: "card" }, [h("h2", { text: "Last 8 weeks" }), h("p", { class: "legend" },
      [h("span", { class: "key key-a" }), " signups ", h("span", { class: "key key-b" }), " qualified"])]);
    screen("Overview", [picker(), cards, chartBox]);
    api("GET", "/v1/metrics?" + pq()).then(function (m) {
      [["Participants", m.participants], ["Sharing", pct(m.participation_rate)], ["Clicks", m.clicks],
        ["Signups", m.signups], ["Qualified", m.qualified], ["k-factor", m.k_factor === null ? "—" : m.k_factor.toFixed(2)]]
        .forEach(function (c) { cards.appendChild(h("div", { class: "stat" }, [h("span", { class: "stat-n", text: String(c[1]) }), h("span", { class: "stat-l", text: c[0] })])); });
    }).catch(fail);
    api("GET", "/v1/test/clock").catch(function () { return null; }).then(function (c) {
      var now = c && c.now ? new Date(c.now).getTime() : Date.now(), weeks = [], calls = [];
      for (var i = 7; i >= 0; i--) {
        var from = new Date(now - (i + 1) * 7 * 86400000), to = new Date(now - i * 7 * 86400000);
        var w = { label: (from.getUTCMonth() + 1) + "/" + from.getUTCDate(), signups: 0, qualified: 0 };
        weeks.push(w);
        calls.push(api("GET", "/v1/metrics?" + pq() + "&from=" + from.toISOString().slice(0, 19) + "Z&to=" + to.toISOString().slice(0, 19) + "Z").then(
          (function (w) { return function (m) { w.signups = m.signups; w.qualified = m.qualified; }; })(w)));
      }
      return Promise.all(calls).then(function () { chartBox.appendChild(chart(weeks)); });
    }).catch(fail);
  }

  /* ---- participants ---- */
  function participants() {
    var q = h("input", { type: "search", placeholder: "jane@example.com" });
    var out = h("div");
    function load() {
      var path = "/v1/participants?" + pq() + "&limit=100" + (q.value ? "&email=" + encodeURIComponent(q.value) : "");
      api("GET", path).then(function (l) {
        out.replaceChildren(table([["Name", function (p) { return h("a", { href: "/admin/participants/" + p.id, text: p.first_name || p.external_id }); }],
          ["Code", function (p) { return p.code; }], ["Status", function (p) { return p.status; }],
          ["Signups", function (p) { return String(p.stats.signups); }], ["Qualified", function (p) { return String(p.stats.qualified); }],
          ["Joined", function (p) { return when(p.created_at); }]], l.data, "No participants match."));
      }).catch(fail);
    }
    screen("Participants", [picker(), h("form", { class: "search", role: "search", onsubmit: function (ev) { ev.preventDefault(); load(); } },
      [field("Search by e-mail", q), h("button", { class: "button", type: "submit", text: "Search" })]), out,
      h("p", {}, [h("a", { href: "/v1/exports/participants.csv?" + pq(), download: "participants.csv", text: "Download all as CSV" })])]);
    load();
  }

  function participant(id) {
    api("GET", "/v1/participants/" + id).then(function (p) {
      var owner = state.role === "owner";
      var alias = h("input", { pattern: "[A-Za-z0-9-]{3,9}" });
      var actions = owner ? h("div", { class: "actions" }, [
        h("button", { class: "button secondary", text: p.status === "blocked" ? "Unblock" : "Block", onclick: function () {
          api("PATCH", "/v1/participants/" + id, { status: p.status === "blocked" ? "active" : "blocked" }).then(function () { toast("Saved"); participant(id); }).catch(fail);
        } }),
        h("button", { class: "button secondary", text: "Make a hub link", onclick: function () {
          api("POST", "/v1/participants/" + id + "/hub_link", {}).then(function (l) { hub.replaceChildren(h("code", { text: l.url || JSON.stringify(l) })); }).catch(fail);
        } }),
        h("button", { class: "button secondary", text: "Export their data", onclick: function () {
          api("GET", "/v1/participants/" + id + "/export").then(function (d) {
            var a = h("a", { href: URL.createObjectURL(new Blob([JSON.stringify(d, null, 2)], { type: "application/json" })), download: id + ".json" });
            document.body.appendChild(a); a.click(); a.remove();
          }).catch(fail);
        } }),
        h("button", { class: "button danger", text: "Erase", onclick: function () {
          if (!confirm("Erase " + (p.first_name || id) + "? Their personal data is removed for good.")) return;
          api("POST", "/v1/participants/" + id + "/erase", {}).then(function () { toast("Erased"); go("/admin/participants"); }).catch(fail);
        } })]) : null;
      var hub = h("p", { class: "secret-line" });
      var aliasForm = owner ? h("form", { class: "inline", onsubmit: function (ev) {
        ev.preventDefault();
        api("POST", "/v1/participants/" + id + "/codes", { code: alias.value }).then(function () { toast("Alias added"); participant(id); }).catch(fail);
      } }, [field("Add a vanity code", alias), h("button", { class: "button secondary", type: "submit", text: "Add" })]) : null;
      var dl = h("dl", { class: "facts" });
      [["Program", p.program], ["External id", p.external_id], ["E-mail", p.email], ["Code", p.code], ["All codes", (p.codes || []).join(", ")],
        ["Share link", p.share_url], ["Status", p.status], ["Referred by", p.referred_by], ["On the leaderboard", p.leaderboard_opt_in ? "yes" : "no"],
        ["Joined", when(p.created_at)], ["Clicks", p.stats.clicks], ["Signups", p.stats.signups], ["Qualified", p.stats.qualified], ["Rewarded", p.stats.rewarded]]
        .forEach(function (f) { dl.appendChild(h("dt", { text: f[0] })); dl.appendChild(h("dd", { text: f[1] === null || f[1] === undefined || f[1] === "" ? "—" : String(f[1]) })); });
      screen(p.first_name || p.external_id, [h("p", {}, [h("a", { href: "/admin/participants", text: "← All participants" })]), h("div", { class: "card" }, [dl]), actions, hub, aliasForm]);
    }).catch(fail);
  }

  /* ---- referrals and review ---- */
  var FLAG_TEXT = { same_ip: "Same network address as the referrer", same_device: "Same device as the referrer",
    new_referrer: "The referrer joined very recently", velocity: "Many referrals from this referrer today",
    disposable_email: "A throwaway e-mail address", same_email_stem: "E-mail looks like the referrer's",
    same_payment: "Same payment card as the referrer", blocked_domain: "E-mail domain is blocked" };

  function explain(r) {
    var how = { url: "opened " + r.referrer.first_name + "'s link", code: "typed " + r.referrer.first_name + "'s code",
      cookie: "came back with the cookie from " + r.referrer.first_name + "'s link", lead: "came through a resource " + r.referrer.first_name + " shared" }[r.source] || r.source;
    return (r.referred.first_name || "A friend") + " " + how + (r.code ? " (" + r.code + ")" : "") + (r.channel ? " via " + r.channel : "");
  }

  function referrals() {
    var out = h("div");
    screen("Referrals", [picker(), out, h("p", {}, [h("a", { href: "/v1/exports/referrals.csv?" + pq(), download: "referrals.csv", text: "Download as CSV" })])]);
    api("GET", "/v1/referrals?" + pq() + "&limit=100").then(function (l) {
      out.replaceChildren(table([["Referrer", function (r) { return h("a", { href: "/admin/participants/" + r.referrer.id, text: r.referrer.first_name || r.referrer.id }); }],
        ["Friend", function (r) { return h("a", { href: "/admin/participants/" + r.referred.id, text: r.referred.first_name || r.referred.id }); }],
        ["Status", function (r) { return r.status; }], ["How it was attributed", explain], ["When", function (r) { return when(r.created_at); }]], l.data, "No referrals yet."));
    }).catch(fail);
  }

  function review() {
    var out = h("div", { class: "queue" });
    screen("Review queue", [picker(), h("p", { class: "lead", text: "Referrals that look unusual wait here until someone decides." }), out]);
    api("GET", "/v1/referrals?" + pq() + "&status=review&limit=100").then(function (l) {
      if (!l.data.length) { out.appendChild(h("p", { class: "empty", text: "Nothing to review. Well done." })); return; }
      l.data.forEach(function (r) {
        var reason = h("input", { autocomplete: "off" });
        var flags = (r.fraud && r.fraud.flags) || [];
        function decide(verb) {
          var body = reason.value ? { reason: reason.value } : {};
          if (verb === "reject" && !reason.value) { toast("Give a reason to reject"); reason.focus(); return; }
          api("POST", "/v1/referrals/" + r.id + "/" + verb, body).then(function () { toast(verb === "approve" ? "Approved" : "Rejected"); card.remove(); }).catch(fail);
        }
        var card = h("article", { class: "card review-item", "aria-label": "Referral " + r.id }, [
          h("h2", { text: explain(r) }),
          h("p", { class: "hint" }, ["Referrer ", h("a", { href: "/admin/participants/" + r.referrer.id, text: r.referrer.first_name || r.referrer.id }),
            " · friend ", h("a", { href: "/admin/participants/" + r.referred.id, text: r.referred.first_name || r.referred.id }),
            " · fraud score " + (r.fraud ? r.fraud.score : 0) + " · " + when(r.created_at)]),
          h("ul", { class: "flags" }, flags.map(function (f) { return h("li", {}, [h("strong", { text: f }), " — " + (FLAG_TEXT[f] || "")]); })),
          field("Reason (needed to reject)", reason),
          h("div", { class: "actions" }, [h("button", { class: "button", text: "Approve", onclick: function () { decide("approve"); } }),
            h("button", { class: "button danger", text: "Reject", onclick: function () { decide("reject"); } })])]);
        out.appendChild(card);
      });
    }).catch(fail);
  }

  /* ---- rewards ---- */
  function rewards() {
    var out = h("div");
    screen("Rewards", [picker(), out, h("p", {}, [h("a", { href: "/v1/exports/rewards.csv?" + pq(), download: "rewards.csv", text: "Download as CSV" })])]);
    api("GET", "/v1/rewards?" + pq() + "&limit=100").then(function (l) {
      out.replaceChildren(table([["For", function (w) { return h("a", { href: "/admin/participants/" + w.participant, text: w.participant }); }],
        ["What", function (w) { return w.amount !== null && w.amount !== undefined ? (w.amount / 100).toFixed(2) + " " + w.currency + " " + w.kind : (w.description || w.kind); }],
        ["Status", function (w) { return w.status; }], ["When", function (w) { return when(w.created_at); }],
        ["", function (w) {
          if (state.role !== "owner" || (w.status !== "issued" && w.status !== "pending")) return "";
          return h("span", { class: "row-actions" }, [w.status === "issued" ? h("button", { class: "button small", text: "Redeem", onclick: function () { api("POST", "/v1/rewards/" + w.id + "/redeem", {}).then(function () { toast("Redeemed"); rewards(); }).catch(fail); } }) : null,
            h("button", { class: "button small danger", text: "Void", onclick: function () { api("POST", "/v1/rewards/" + w.id + "/void", { reason: "voided from the dashboard" }).then(function () { toast("Voided"); rewards(); }).catch(fail); } })]);
        }]], l.data, "No rewards yet."));
    }).catch(fail);
  }

  /* ---- settings ---- */
  function settings() {
    api("GET", "/v1/programs/" + state.program).then(function (p) {
      var owner = state.role === "owner";
      var name = h("input", { value: p.name, required: true, disabled: !owner });
      var dest = h("input", { type: "url", value: p.destination_url, required: true, disabled: !owner });
      var cookie = h("input", { type: "number", min: "1", max: "365", value: p.cookie_days, disabled: !owner });
      var hold = h("input", { type: "number", min: "0", value: (p.qualification || {}).hold_days, disabled: !owner });
      var ev = h("input", { value: (p.qualification || {}).event, disabled: !owner });
      var review_at = h("input", { type: "number", min: "0", value: (p.fraud || {}).review_at, disabled: !owner });
      var reject_at = h("input", { type: "number", min: "0", value: (p.fraud || {}).reject_at, disabled: !owner });
      var rw = h("textarea", { rows: "8", class: "code", disabled: !owner }, [JSON.stringify(p.rewards, null, 2)]);
      var form = h("form", { class: "card", onsubmit: function (e) {
        e.preventDefault();
        var rules;
        try { rules = JSON.parse(rw.value); } catch (x) { toast("The rewards are not valid JSON"); rw.focus(); return; }
        var q = Object.assign({}, p.qualification, { event: ev.value, hold_days: Number(hold.value) });
        var f = Object.assign({}, p.fraud, { review_at: Number(review_at.value), reject_at: Number(reject_at.value) });
        api("PATCH", "/v1/programs/" + p.id, { name: name.value, destination_url: dest.value, cookie_days: Number(cookie.value), qualification: q, fraud: f, rewards: rules })
          .then(function (np) { toast("Saved"); state.programs = state.programs.map(function (x) { return x.id === np.id ? np : x; }); }).catch(fail);
      } }, [h("h2", { text: "Basics" }), field("Name", name), field("Where friends land", dest), field("Cookie days", cookie, "How long a click is remembered."),
        h("h2", { text: "Qualification" }), field("Event that qualifies", ev), field("Hold days", hold, "Days to wait before a qualified referral is rewarded."),
        h("h2", { text: "Fraud thresholds" }), field("Review at score", review_at), field("Reject at score", reject_at),
        h("h2", { text: "Rewards and tiers" }), field("Reward rules (JSON)", rw, "One rule per side and tier: to, kind, amount, currency, from_count, to_count."),
        owner ? h("button", { class: "button", type: "submit", text: "Save settings" }) : h("p", { class: "hint", text: "Reviewers can read these settings; owners change them." })]);
      screen("Program settings", [picker(), form, owner ? h("p", {}, [h("a", { href: "/admin/new", text: "Create another program" })]) : null]);
    }).catch(fail);
  }

  /* ---- API keys ---- */
  function keys() {
    var out = h("div"), shown = h("div", { role: "status" });
    var name = h("input", { placeholder: "CRM sync" });
    var kind = h("select", {}, [h("option", { value: "secret", text: "Secret (server to server)" }), h("option", { value: "publishable", text: "Publishable (web pages)" })]);
    function load() {
      api("GET", "/v1/api_keys").then(function (l) {
        out.replaceChildren(table([["Name", function (k) { return k.name || (k.id === "key_env" ? "KITH_SECRET_KEY" : "—"); }], ["Kind", function (k) { return k.kind; }],
          ["Created", function (k) { return when(k.created_at); }], ["Last used", function (k) { return when(k.last_used_at); }],
          ["", function (k) {
            if (state.role !== "owner") return "";
            return h("button", { class: "button small danger", text: "Revoke", "aria-label": "Revoke " + (k.name || k.id), onclick: function () {
              if (!confirm("Revoke this key? Anything using it stops working at once.")) return;
              api("DELETE", "/v1/api_keys/" + k.id).then(function () { toast("Revoked"); load(); }).catch(fail);
            } });
          }]], l.data, "No keys made here yet. The KITH_SECRET_KEY set where kith starts is not listed and cannot be revoked here."));
      }).catch(fail);
    }
    var form = state.role === "owner" ? h("form", { class: "card", onsubmit: function (ev) {
      ev.preventDefault();
      api("POST", "/v1/api_keys", { kind: kind.value, name: name.value || undefined }).then(function (k) {
        shown.replaceChildren(h("div", { class: "card notice" }, [h("p", { text: "Copy this key now: it is shown only once." }), h("p", { class: "secret-line" }, [h("code", { text: k.key })])]));
        name.value = ""; load();
      }).catch(fail);
    } }, [h("h2", { text: "New key" }), field("Name", name), field("Kind", kind), h("button", { class: "button", type: "submit", text: "Create key" })]) : null;
    screen("API keys", [shown, out, form]);
    load();
  }

  function route() {
    var parts = location.pathname.replace(/\/+$/, "").split("/").slice(2);
    if (!state.program || parts[0] === "new") return firstRun();
    var page = parts[0] || "overview";
    if (page === "participants" && parts[1]) return participant(parts[1]);
    ({ overview: overview, participants: participants, referrals: referrals, review: review, rewards: rewards, settings: settings, keys: keys }[page] || overview)();
  }

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
  fetch("/v1/admin/session", { credentials: "same-origin" }).then(function (r) { if (r.ok) start(); else showLogin(); }, showLogin);
})();
