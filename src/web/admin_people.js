/* kith dashboard: the overview (health over time), participants and their detail, referrals
 * with their attribution explained, and the review queue. Registers its screens with the core
 * (admin.js). */
(function () {
  "use strict";
  var K = window.kithAdmin, h = K.h, api = K.api, toast = K.toast, fail = K.fail, screen = K.screen;
  var field = K.field, table = K.table, when = K.when, pq = K.pq, picker = K.picker, go = K.go, state = K.state;

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
      screen(p.first_name || p.external_id, [h("p", {}, [h("a", { href: "/admin/participants", text: "← All participants" })]), h("div", { class: "card" }, [dl]), actions, hub, aliasForm,
        progressCard(p), K.rolesCard ? K.rolesCard(p, function () { participant(id); }) : null]);
    }).catch(fail);
  }

  /* Each track's count and level; a level waiting for the owner can be approved or declined. */
  function progressCard(p) {
    var tracks = Object.keys(p.progress || {});
    if (!tracks.length) return null;
    return h("section", { class: "card", "aria-label": "Progress" }, [h("h2", { text: "Progress" }),
      h("ul", { class: "plain" }, tracks.map(function (t) {
        var g = p.progress[t];
        var line = t + ": " + g.count + " counted, level " + (g.level || "none yet") +
          (g.next ? " (next: " + g.next.level + " in " + g.next.remaining + ")" : "");
        var decide = g.pending_level && K.owner() ? ["approve", "decline"].map(function (verb) {
          return h("button", { class: "button small" + (verb === "decline" ? " secondary" : ""), text: (verb === "approve" ? "Approve " : "Decline ") + g.pending_level, onclick: function () {
            api("POST", "/v1/participants/" + p.id + "/levels/" + encodeURIComponent(t) + "/" + verb, {}).then(function () { toast("Done"); participant(p.id); }).catch(fail);
          } });
        }) : [];
        return h("li", {}, [line, g.pending_level ? " · waiting for approval: " + g.pending_level + " " : null].concat(decide));
      }))]);
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


  Object.assign(K.screens, { overview: overview, review: review, referrals: referrals,
    participants: function (id) { return id ? participant(id) : participants(); } });
  K.explain = explain;
})();
