/* kith dashboard: the program's tracks and levels (CONTRACT 15), edited as cards rather than
 * JSON, and its message templates (section 13) with a live preview of each message, rendered
 * by the server (POST /v1/programs/{id}/templates/preview) with the same renderer and variables
 * as the messages people receive. */
(function () {
  "use strict";
  var K = window.kithAdmin, h = K.h, api = K.api, fail = K.fail, screen = K.screen;
  var field = K.field, check = K.check, input = K.input, state = K.state;

  var GRANT_KINDS = ["recognition", "access", "role", "credit", "cash", "discount", "free_month", "subscription_extension", "gift", "experience", "donation"];
  var MONETARY = { credit: 1, cash: 1, discount: 1, donation: 1 };
  var COUNTS = [["qualified_referrals", "Friends who became customers"], ["signups", "Friends who signed up"],
    ["resource_signups", "Signups through a shared resource"], ["activity", "Activities of one type"]];

  /* Binds an input to model[key]; num: store a number (or null when empty). */
  function bind(el, model, key, num) {
    el.addEventListener("input", function () {
      if (el.type === "checkbox") return;
      model[key] = num ? (el.value === "" ? null : Number(el.value)) : el.value;
    });
    return el;
  }

  function grantRow(g, list, i, ro, redraw) {
    var kind = K.select(GRANT_KINDS, g.kind, { disabled: ro, onchange: function () { g.kind = kind.value; redraw(); } });
    var kids = [field("Grant", kind), field("Description", bind(input("text", g.description, { disabled: ro }), g, "description"))];
    if (g.kind === "role") kids.push(field("Role", bind(input("text", g.role, { pattern: "[a-z0-9_]{1,40}", disabled: ro }), g, "role")));
    if (MONETARY[g.kind]) {
      kids.push(field("Amount (minor units)", bind(input("number", g.amount, { min: "1", disabled: ro }), g, "amount", true)));
      kids.push(field("Currency", bind(input("text", g.currency, { maxlength: "3", disabled: ro }), g, "currency")));
    }
    if (!ro) kids.push(h("button", { type: "button", class: "button small secondary", text: "Remove grant", onclick: function () { list.splice(i, 1); redraw(); } }));
    return h("div", { class: "grant inline" }, kids);
  }

  function levelCard(l, levels, i, ro, redraw) {
    l.grants = l.grants || [];
    var approval = K.checkbox(l.approval === "owner", { disabled: ro });
    approval.addEventListener("change", function () { l.approval = approval.checked ? "owner" : "auto"; });
    return h("fieldset", { class: "level" }, [h("legend", { text: "Level " + (i + 1) + (l.name ? ": " + l.name : "") }),
      h("div", { class: "inline" }, [field("Name", bind(input("text", l.name, { required: true, disabled: ro }), l, "name")),
        field("Id", bind(input("text", l.id, { required: true, pattern: "[a-z0-9_-]{1,40}", disabled: ro }), l, "id")),
        field("Reached at", bind(input("number", l.at, { min: "1", required: true, disabled: ro }), l, "at", true))]),
      check("An owner approves this level", approval),
      h("div", { class: "grants" }, l.grants.map(function (g, j) { return grantRow(g, l.grants, j, ro, redraw); })),
      ro ? null : h("div", { class: "row-actions" }, [
        h("button", { type: "button", class: "button small secondary", text: "Add a grant", onclick: function () { l.grants.push({ kind: "recognition", description: "" }); redraw(); } }),
        h("button", { type: "button", class: "button small danger", text: "Remove level", onclick: function () { levels.splice(i, 1); redraw(); } })])]);
  }

  function trackCard(t, tracks, i, ro, redraw) {
    t.levels = t.levels || [];
    var isAct = /^activity:/.test(t.counts || "");
    var counts = K.select(COUNTS, isAct ? "activity" : (t.counts || "qualified_referrals"), { disabled: ro, onchange: function () {
      t.counts = counts.value === "activity" ? "activity:testimonial" : counts.value; redraw();
    } });
    var act = isAct ? field("Activity type", bind(input("text", t.counts.slice(9), { pattern: "[a-z0-9_]{1,40}", disabled: ro, oninput: function (e) { t.counts = "activity:" + e.target.value; } }), {}, "x")) : null;
    return h("section", { class: "card track", "aria-label": "Track " + (t.name || i + 1) }, [h("h2", { text: t.name || "New track" }),
      h("div", { class: "inline" }, [field("Name", bind(input("text", t.name, { required: true, disabled: ro }), t, "name")),
        field("Id", bind(input("text", t.id, { required: true, pattern: "[a-z0-9_-]{1,40}", disabled: ro }), t, "id"))]),
      h("div", { class: "inline" }, [field("What counts", counts), act]),
      h("div", { class: "inline" }, [field("Count only the last N days", bind(input("number", t.window_days, { min: "1", disabled: ro }), t, "window_days", true), "Empty: all time."),
        field("Days of grace before a level drops", bind(input("number", t.downgrade_grace_days, { min: "0", disabled: ro }), t, "downgrade_grace_days", true))]),
      h("div", {}, t.levels.map(function (l, j) { return levelCard(l, t.levels, j, ro, redraw); })),
      ro ? null : h("div", { class: "row-actions" }, [
        h("button", { type: "button", class: "button small secondary", text: "Add a level", onclick: function () {
          var last = t.levels[t.levels.length - 1];
          t.levels.push({ id: "", name: "", at: last ? last.at + 1 : 1, grants: [] }); redraw();
        } }),
        h("button", { type: "button", class: "button small danger", text: "Remove track", onclick: function () { tracks.splice(i, 1); redraw(); } })])]);
  }

  /* The model as the API takes it: empty fields left out. */
  function clean(tracks) {
    return tracks.map(function (t) {
      var o = { id: t.id, name: t.name, counts: t.counts || "qualified_referrals", levels: t.levels.map(function (l) {
        var lv = { id: l.id, name: l.name, at: Number(l.at), approval: l.approval === "owner" ? "owner" : "auto" };
        lv.grants = (l.grants || []).map(function (g) {
          var out = { kind: g.kind };
          ["description", "role", "currency"].forEach(function (k) { if (g[k]) out[k] = g[k]; });
          if (MONETARY[g.kind] && g.amount !== null && g.amount !== undefined && g.amount !== "") out.amount = Number(g.amount);
          if (g.kind !== "role") delete out.role;
          return out;
        });
        return lv;
      }) };
      if (t.window_days !== null && t.window_days !== undefined && t.window_days !== "") o.window_days = Number(t.window_days);
      if (t.downgrade_grace_days !== null && t.downgrade_grace_days !== undefined && t.downgrade_grace_days !== "") o.downgrade_grace_days = Number(t.downgrade_grace_days);
      return o;
    });
  }

  function tracks() {
    K.settingsPage("Tracks and levels", "People are recognised along tracks, one per way of helping: bringing friends, telling stories, hosting. Each level can grant a thank-you, access or a community role.", function (p, ro) {
      var model = JSON.parse(JSON.stringify(p.tracks || []));
      var box = h("div");
      function redraw() {
        box.replaceChildren.apply(box, model.map(function (t, i) { return trackCard(t, model, i, ro, redraw); }).concat([
          model.length ? null : h("p", { class: "empty", text: "No tracks yet." }),
          ro ? null : h("p", {}, [h("button", { type: "button", class: "button secondary", text: "Add a track", onclick: function () {
            model.push({ id: "", name: "", counts: "qualified_referrals", levels: [{ id: "", name: "", at: 1, grants: [] }] }); redraw();
          } })])].filter(Boolean)));
      }
      redraw();
      return [[box], function () { return { tracks: clean(model) }; }];
    });
  }

  /* ---- templates ---- */
  var TEMPLATES = [
    ["referral_created_referrer", "A friend joined (to the person who shared)"], ["referral_created_referred", "Welcome (to the friend)"],
    ["referral_qualified_referrer", "A friend became a customer"], ["referral_rewarded_referrer", "The thank-you is ready"],
    ["reward_issued_referred", "The friend's welcome gift"], ["level_reached", "A level reached"],
    ["share_email", "Share by e-mail"], ["share_sms", "Share by text message"], ["share_whatsapp", "Share on WhatsApp"], ["share_social", "Share on social media"],
    ["ask", "Ask at a moment"], ["ask_purchase", "Ask after a purchase"], ["ask_milestone", "Ask at a milestone"], ["ask_nps", "Ask after a kind score"],
    ["ask_review", "Ask after a review"], ["ask_support_resolved", "Ask after support helped"], ["spotlight", "Spotlight winner"], ["digest", "Monthly digest"]];
  var VARS = ["first_name", "code", "share_url", "friend_first_name", "reward", "program_name", "track_name", "level_name", "resource_title", "resource_url", "summary"];

  function templates(name) {
    var ro = !K.owner();
    var pick = K.select(TEMPLATES, name, { onchange: function () { load(pick.value); } });
    var subj = input("text", "", { disabled: ro, maxlength: "300" });
    var body = h("textarea", { rows: "10", disabled: ro, maxlength: "4000" });
    var subjField = field("Subject", subj);
    var pvSubj = h("p", { class: "preview-subject" }), pvBody = h("p", { class: "preview-body" });
    var pvErr = h("p", { class: "error", role: "alert" });
    var custom = h("p", { class: "hint" });
    var timer = null, current = null, ticket = 0;
    var preview = h("section", { class: "card preview", "aria-label": "Preview", "aria-live": "polite" }, [h("h2", { text: "Preview" }),
      h("p", { class: "hint", text: "As Jane would receive it, with an example friend (Sam) and your program's reward." }), pvErr,
      h("div", { class: "message" }, [pvSubj, pvBody])]);
    function render(draft) {
      var my = ++ticket;
      var req = { name: current };
      if (draft) { req.body = body.value; if (!subjField.hidden) req.subject = subj.value; }
      return api("POST", "/v1/programs/" + encodeURIComponent(state.program) + "/templates/preview", req).then(function (r) {
        if (my !== ticket) return r;
        pvErr.textContent = "";
        pvSubj.textContent = r.subject === null ? "" : r.subject;
        pvSubj.hidden = r.subject === null;
        pvBody.textContent = r.body;
        return r;
      }).catch(function (e) { if (my === ticket) pvErr.textContent = e.message; });
    }
    function schedule() { clearTimeout(timer); timer = setTimeout(function () { render(true); }, 250); }
    subj.addEventListener("input", schedule);
    body.addEventListener("input", schedule);
    function load(n) {
      current = n;
      render(false).then(function (r) {
        if (!r) return;
        subjField.hidden = r.template.subject === null;
        subj.value = r.template.subject || "";
        body.value = r.template.body;
        custom.textContent = r.customised ? "Your own words." : "kith's default words: change them to sound like you.";
      });
    }
    var form = h("form", { class: "card", onsubmit: function (e) {
      e.preventDefault();
      var t = {}; t[current] = { body: body.value };
      if (!subjField.hidden) t[current].subject = subj.value;
      K.saveProgram({ templates: t }).then(function () { custom.textContent = "Your own words."; }).catch(fail);
    } }, [field("Message", pick), custom, subjField, field("Text", body, "Placeholders: " + VARS.map(function (v) { return "{{" + v + "}}"; }).join(" ")),
      ro ? null : h("button", { class: "button", type: "submit", text: "Save message" })]);
    screen("Messages", [K.picker(), K.settingsTabs(), h("p", { class: "lead", text: "The words kith says on your behalf. Each message is previewed as you type." }),
      K.readOnlyNote(), h("div", { class: "split" }, [form, preview])]);
    load(name || TEMPLATES[0][0]);
  }

  K.settingsPages.tracks = tracks;
  K.settingsPages.templates = function () { templates(); };
})();
