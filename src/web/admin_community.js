/* kith dashboard: the community (CONTRACT 14-18): the opt-in leaderboard, spotlight drafts and
 * publishing, community roles (granted by hand or by a level, revoked), and activities
 * (recorded, voided). Also the roles card of a participant's page (admin_people.js). */
(function () {
  "use strict";
  var K = window.kithAdmin, h = K.h, api = K.api, toast = K.toast, fail = K.fail, screen = K.screen;
  var field = K.field, input = K.input, pq = K.pq, when = K.when, state = K.state;

  function tabs() {
    return K.tabs("Community", [["/admin/community", "Leaderboard"], ["/admin/community/spotlights", "Spotlights"],
      ["/admin/community/roles", "Roles"], ["/admin/community/activities", "Activities"]]);
  }

  function page(title, lead, kids) { screen(title, [K.picker(), tabs(), lead ? h("p", { class: "lead", text: lead }) : null].concat(kids)); }

  function leaderboard() {
    var out = h("div");
    var period = K.select([["all", "All time"], ["month", "This month"]], "all", { onchange: load });
    function load() {
      api("GET", "/v1/leaderboard?" + pq() + "&period=" + period.value + "&limit=50").then(function (l) {
        out.replaceChildren(K.table([["Rank", function (e) { return String(e.rank); }],
          ["Name", function (e) { return h("a", { href: "/admin/participants/" + e.participant, text: e.display_name || e.participant }); }],
          ["Friends who became customers", function (e) { return String(e.qualified); }]], l.data, "Nobody on the leaderboard yet: people choose to appear on it.", "Leaderboard"));
      }).catch(fail);
    }
    page("Leaderboard", "Only people who chose to appear are listed, by first name.", [h("div", { class: "search" }, [field("Period", period)]), out]);
    load();
  }

  var CATS = { most_qualified: "Most friends who became customers", rising: "Rising: a first friend this month", storyteller: "Storyteller: most activities" };

  function spotlights() {
    var out = h("div");
    var now = new Date();
    var prev = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    var periodIn = input("text", prev.toISOString().slice(0, 7), { pattern: "[0-9]{4}-[0-9]{2}", required: true });
    var draft = K.owner() ? h("form", { class: "card inline", onsubmit: function (ev) {
      ev.preventDefault();
      api("POST", "/v1/spotlights", { program: state.program, period: periodIn.value }).then(function () { toast("Draft made"); load(); }).catch(fail);
    } }, [field("Month (YYYY-MM)", periodIn), h("button", { class: "button", type: "submit", text: "Draft a spotlight" })]) : null;
    function load() {
      api("GET", "/v1/spotlights?" + pq() + "&limit=24").then(function (l) {
        if (!l.data.length) { out.replaceChildren(h("p", { class: "empty", text: "No spotlights yet." })); return; }
        out.replaceChildren.apply(out, l.data.map(spotlightCard.bind(null, load)));
      }).catch(fail);
    }
    page("Spotlights", "Each month, thank a few people in public. Only people who opted in are candidates; recent winners rest for a while.", [draft, out]);
    load();
  }

  function spotlightCard(reload, s) {
    var picks = [];
    var cats = Object.keys(CATS).map(function (c) {
      var list = (s.candidates || {})[c] || [];
      return h("fieldset", { class: "level" }, [h("legend", { text: CATS[c] }),
        list.length ? h("ul", { class: "plain" }, list.map(function (p) {
          var box = K.checkbox(false, { disabled: s.status !== "draft" || !K.owner() });
          var note = input("text", "", { placeholder: "A word of thanks (optional)", "aria-label": "Note for " + (p.first_name || p.participant), disabled: s.status !== "draft" || !K.owner() });
          picks.push({ box: box, note: note, category: c, participant: p.participant });
          return h("li", { class: "candidate" }, [K.check((p.first_name || p.participant) + " (" + p.count + ")", box), note]);
        })) : h("p", { class: "empty", text: "No candidates." })]);
    });
    var names = {};
    Object.keys(s.candidates || {}).forEach(function (c) { (s.candidates[c] || []).forEach(function (p) { names[p.participant] = p.first_name; }); });
    var winners = (s.winners || []).map(function (w) { return h("li", { text: (CATS[w.category] || w.category) + ": " + (w.first_name || names[w.participant] || w.participant) + (w.note ? " — " + w.note : "") }); });
    return h("article", { class: "card", "aria-label": "Spotlight " + s.period }, [h("h2", { text: s.period + " · " + (s.status === "draft" ? "draft" : "published") }),
      s.status === "published" ? h("ul", { class: "flags" }, winners) : h("div", {}, cats),
      s.status === "draft" && K.owner() ? h("div", { class: "actions" }, [h("button", { class: "button", text: "Publish", onclick: function () {
        var w = picks.filter(function (p) { return p.box.checked; }).map(function (p) {
          var o = { category: p.category, participant: p.participant };
          if (p.note.value) o.note = p.note.value;
          return o;
        });
        if (!w.length) { toast("Choose at least one person"); return; }
        api("POST", "/v1/spotlights/" + s.id + "/publish", { winners: w }).then(function () { toast("Published"); reload(); }).catch(fail);
      } })]) : null]);
  }

  /* A participant's roles with revoke, and a grant form (owner). */
  K.rolesCard = function (p, reload) {
    var role = input("text", "", { pattern: "[a-z0-9_]{1,40}", placeholder: "community_guide" });
    var roles = p.roles || [];
    return h("section", { class: "card", "aria-label": "Roles" }, [h("h2", { text: "Roles" }),
      roles.length ? h("ul", { class: "plain" }, roles.map(function (r) {
        return h("li", {}, [h("strong", { text: r.role }), " · " + (r.source === "level" ? "from a level" : "given by hand") + " · " + when(r.granted_at) + " ",
          K.owner() ? h("button", { class: "button small danger", text: "Revoke", "aria-label": "Revoke " + r.role, onclick: function () {
            api("DELETE", "/v1/participants/" + p.id + "/roles/" + encodeURIComponent(r.role)).then(function () { toast("Revoked"); reload(); }).catch(fail);
          } }) : null]);
      })) : h("p", { class: "empty", text: "No roles." }),
      K.owner() ? h("form", { class: "inline", onsubmit: function (ev) {
        ev.preventDefault();
        api("POST", "/v1/participants/" + p.id + "/roles", { role: role.value }).then(function () { toast("Role given"); reload(); }).catch(fail);
      } }, [field("Give a role", role), h("button", { class: "button secondary", type: "submit", text: "Give" })]) : null]);
  };

  function roles() {
    var out = h("div");
    function load() {
      api("GET", "/v1/participants?" + pq() + "&limit=500").then(function (l) {
        var rows = [];
        l.data.forEach(function (p) { (p.roles || []).forEach(function (r) { rows.push({ p: p, r: r }); }); });
        out.replaceChildren(K.table([["Person", function (x) { return h("a", { href: "/admin/participants/" + x.p.id, text: x.p.first_name || x.p.external_id }); }],
          ["Role", function (x) { return x.r.role; }], ["From", function (x) { return x.r.source === "level" ? "a level" : "given by hand"; }],
          ["Since", function (x) { return when(x.r.granted_at); }],
          ["", function (x) {
            return K.owner() ? h("button", { class: "button small danger", text: "Revoke", "aria-label": "Revoke " + x.r.role + " from " + (x.p.first_name || x.p.id), onclick: function () {
              api("DELETE", "/v1/participants/" + x.p.id + "/roles/" + encodeURIComponent(x.r.role)).then(function () { toast("Revoked"); load(); }).catch(fail);
            } }) : "";
          }]], rows, "Nobody holds a role yet. Levels grant roles, or give one from a person's page.", "Roles"));
      }).catch(fail);
    }
    var email = input("email", "", { required: true });
    var role = input("text", "", { required: true, pattern: "[a-z0-9_]{1,40}", placeholder: "community_guide" });
    var grant = K.owner() ? h("form", { class: "card inline", onsubmit: function (ev) {
      ev.preventDefault();
      api("GET", "/v1/participants?" + pq() + "&email=" + encodeURIComponent(email.value)).then(function (l) {
        if (!l.data.length) throw new Error("Nobody in this program has that e-mail");
        return api("POST", "/v1/participants/" + l.data[0].id + "/roles", { role: role.value });
      }).then(function () { toast("Role given"); email.value = ""; load(); }).catch(fail);
    } }, [field("Their e-mail", email), field("Role", role), h("button", { class: "button", type: "submit", text: "Give the role" })]) : null;
    page("Roles", "Community roles: who hosts, welcomes or guides.", [out, grant]);
    load();
  }

  function activities() {
    var out = h("div");
    var type = input("text", "", { placeholder: "testimonial" });
    function load() {
      Promise.all([api("GET", "/v1/activities?" + pq() + "&limit=100" + (type.value ? "&type=" + encodeURIComponent(type.value) : "")), K.people()]).then(function (r) {
        var l = r[0], who = r[1];
        out.replaceChildren(K.table([["Person", function (a) { return K.person(who, a.participant); }],
          ["Type", function (a) { return a.type.replace(/_/g, " "); }], ["Note", function (a) { return a.url ? h("a", { href: a.url, rel: "noopener", text: a.note || a.url }) : a.note; }],
          ["When", function (a) { return when(a.occurred_at); }], ["Status", function (a) { return a.status; }],
          ["", function (a) {
            return K.owner() && a.status === "counted" ? h("button", { class: "button small danger", text: "Void", "aria-label": "Void " + a.type + " " + a.id, onclick: function () {
              var why = prompt("Why does this not count?");
              if (why === null) return;
              api("POST", "/v1/activities/" + a.id + "/void", { reason: why || "voided from the dashboard" }).then(function () { toast("Voided"); load(); }).catch(fail);
            } }) : "";
          }]], l.data, "No activities yet. Your systems report them (a testimonial, a hosted event) through POST /v1/activities.", "Activities"));
      }).catch(fail);
    }
    var ext = input("text", "", { required: true }), atype = input("text", "", { required: true, pattern: "[a-z0-9_]{1,40}", placeholder: "testimonial" });
    var note = input("text", "");
    var rec = K.owner() ? h("form", { class: "card", onsubmit: function (ev) {
      ev.preventDefault();
      api("POST", "/v1/activities", { program: state.program, external_id: ext.value, type: atype.value, id: "dash-" + Date.now(), note: note.value || undefined })
        .then(function () { toast("Recorded"); load(); }).catch(fail);
    } }, [h("h2", { text: "Record an activity" }), h("div", { class: "inline" }, [field("Their external id", ext), field("Type", atype), field("Note", note)]),
      h("button", { class: "button secondary", type: "submit", text: "Record" })]) : null;
    page("Activities", "Advocacy that is not a referral: testimonials, reviews, answers, events hosted.",
      [h("form", { class: "search", role: "search", onsubmit: function (ev) { ev.preventDefault(); load(); } }, [field("Type", type), h("button", { class: "button secondary", type: "submit", text: "Filter" })]), out, rec]);
    load();
  }

  var SUB = { spotlights: spotlights, roles: roles, activities: activities };
  K.screens.community = function (sub) { return (SUB[sub] || leaderboard)(); };
})();
