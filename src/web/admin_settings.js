/* kith dashboard: program settings, one address each: the basics (rewards and tiers,
 * qualification and holds, fraud thresholds), asks (moments, rules, fatigue caps), rituals
 * (spotlights, digests), the landing and public page, and reward delivery (CONTRACT 25). Tracks
 * and templates are in admin_program.js. Reviewers see every form read-only. */
(function () {
  "use strict";
  var K = window.kithAdmin, h = K.h, api = K.api, toast = K.toast, fail = K.fail, screen = K.screen;
  var field = K.field, check = K.check, input = K.input, checkbox = K.checkbox, state = K.state;

  K.settingsTabs = function () {
    return K.tabs("Settings", [["/admin/settings", "Basics"], ["/admin/settings/tracks", "Tracks and levels"],
      ["/admin/settings/asks", "Asks"], ["/admin/settings/rituals", "Rituals"], ["/admin/settings/landing", "Landing"],
      ["/admin/settings/templates", "Messages"], ["/admin/settings/fulfilment", "Reward delivery"]]);
  };

  /* Loads the program and draws a settings form; build(p, ro) returns [kids, bodyFn]. */
  function settingsPage(title, lead, build) {
    api("GET", "/v1/programs/" + encodeURIComponent(state.program)).then(function (p) {
      var ro = !K.owner();
      var made = build(p, ro);
      var form = h("form", { class: "card", onsubmit: function (e) {
        e.preventDefault();
        var body;
        try { body = made[1](); } catch (x) { toast(x.message); return; }
        K.saveProgram(body).catch(fail);
      } }, made[0].concat([ro ? null : h("button", { class: "button", type: "submit", text: "Save settings" })]));
      screen(title, [K.picker(), K.settingsTabs(), lead ? h("p", { class: "lead", text: lead }) : null, K.readOnlyNote(), form,
        made[2] || null]);
    }).catch(fail);
  }
  K.settingsPage = settingsPage;

  function basics() {
    settingsPage("Program settings", null, function (p, ro) {
      var q = p.qualification || {}, fr = p.fraud || {};
      var name = input("text", p.name, { required: true, disabled: ro });
      var dest = input("url", p.destination_url, { required: true, disabled: ro });
      var cookie = input("number", p.cookie_days, { min: "1", max: "365", disabled: ro });
      var ev = input("text", q.event, { disabled: ro });
      var minAmount = input("number", q.min_amount, { min: "0", disabled: ro });
      var hold = input("number", q.hold_days, { min: "0", disabled: ro });
      var within = input("number", q.within_days, { min: "1", disabled: ro });
      var reviewAt = input("number", fr.review_at, { min: "0", disabled: ro });
      var rejectAt = input("number", fr.reject_at, { min: "0", disabled: ro });
      var velocity = input("number", fr.velocity_per_day, { min: "1", disabled: ro });
      var newHours = input("number", fr.new_account_hours, { min: "0", disabled: ro });
      var domains = h("textarea", { rows: "3", disabled: ro, value: (fr.blocked_email_domains || []).join("\n") });
      var maxR = input("number", p.max_rewards_per_referrer, { min: "1", disabled: ro });
      var avg = input("number", p.average_customer_value, { min: "0", disabled: ro });
      var rules = JSON.parse(JSON.stringify(p.rewards || []));
      var rw = h("div", { class: "rules" });
      rulesEditor(rw, rules, ro);
      var warn = (p.warnings || []).indexOf("reward_cost_high") >= 0 ? h("p", { class: "notice-soft", text: "One referral's rewards cost more than a fifth of what a customer is worth to you." }) : null;
      return [[h("h2", { text: "Basics" }), field("Name", name), field("Where friends land", dest), field("Cookie days", cookie, "How long a click is remembered."),
        h("h2", { text: "Rewards and tiers" }), warn, h("p", { class: "hint", text: "What the person who shared gets, tier by tier (their 1st to 3rd friend, from the 4th...), and what the friend gets." }), rw,
        field("Most rewards per referrer", maxR, "Leave empty for no limit."), field("What a customer is worth (minor units)", avg),
        h("h2", { text: "Qualification and holds" }), field("Event that qualifies", ev), field("Smallest amount (minor units)", minAmount),
        field("Hold days", hold, "Days to wait before a qualified referral is rewarded."), field("Days a friend has to qualify", within),
        h("h2", { text: "Fraud thresholds" }), field("Review at score", reviewAt), field("Reject at score", rejectAt),
        field("Referrals a day before velocity counts", velocity), field("Hours a new referrer counts as new", newHours),
        field("Blocked e-mail domains", domains, "One a line.")],
      function () {
        return { name: name.value, destination_url: dest.value, cookie_days: Number(cookie.value), rewards: cleanRules(rules),
          max_rewards_per_referrer: K.numOrNull(maxR), average_customer_value: Number(avg.value || 0),
          qualification: { event: ev.value, min_amount: Number(minAmount.value || 0), hold_days: Number(hold.value || 0), within_days: Number(within.value || 90) },
          fraud: { review_at: Number(reviewAt.value), reject_at: Number(rejectAt.value), velocity_per_day: Number(velocity.value), new_account_hours: Number(newHours.value),
            blocked_email_domains: domains.value.split(/\s+/).filter(Boolean) } };
      }, K.owner() ? h("p", {}, [h("a", { href: "/admin/new", text: "Create another program" })]) : null];
    });
  }

  /* Reward rules as cards: who, what, and for the referrer the tier it applies to. Fields the
   * editor does not show (months, percent_off) stay as they were. */
  function rulesEditor(box, rules, ro) {
    function redraw() {
      box.replaceChildren.apply(box, rules.map(function (r, i) {
        var to = K.select([["referrer", "The person who shared"], ["referred", "The friend"]], r.to, { disabled: ro, onchange: function () { r.to = to.value; redraw(); } });
        var kind = K.select(KINDS, r.kind, { disabled: ro, onchange: function () { r.kind = kind.value; redraw(); } });
        var kids = [field("Who gets it", to), field("Kind", kind)];
        if (MONETARY[r.kind]) {
          var amt = input("number", r.amount === null || r.amount === undefined ? "" : r.amount / 100, { min: "0.01", step: "0.01", required: true, disabled: ro });
          amt.addEventListener("input", function () { r.amount = amt.value === "" ? null : Math.round(Number(amt.value) * 100); });
          var cur = input("text", r.currency, { maxlength: "3", required: true, placeholder: "USD", disabled: ro });
          cur.addEventListener("input", function () { r.currency = cur.value.toUpperCase(); });
          kids.push(field("Amount", amt), field("Currency", cur));
        }
        var desc = input("text", r.description, { disabled: ro, required: !MONETARY[r.kind], placeholder: "Your first month on us" });
        desc.addEventListener("input", function () { r.description = desc.value || null; });
        kids.push(field("In words", desc));
        if (r.to === "referrer") {
          var from = input("number", r.from_count, { min: "1", disabled: ro, placeholder: "1" });
          from.addEventListener("input", function () { r.from_count = K.numOrNull(from); });
          var upto = input("number", r.to_count, { min: "1", disabled: ro, placeholder: "no end" });
          upto.addEventListener("input", function () { r.to_count = K.numOrNull(upto); });
          kids.push(field("From friend no.", from), field("Up to friend no.", upto));
        }
        var exp = input("number", r.expires_days, { min: "1", disabled: ro, placeholder: "never" });
        exp.addEventListener("input", function () { r.expires_days = K.numOrNull(exp); });
        kids.push(field("Expires after days", exp));
        return h("fieldset", { class: "level" }, [h("legend", { text: "Reward " + (i + 1) }), h("div", { class: "inline" }, kids),
          ro ? null : h("button", { type: "button", class: "button small danger", text: "Remove reward", onclick: function () { rules.splice(i, 1); redraw(); } })]);
      }).concat([ro ? null : h("button", { type: "button", class: "button small secondary", text: "Add a reward", onclick: function () {
        rules.push({ to: "referrer", kind: "credit", amount: 1000, currency: "USD" }); redraw();
      } })].filter(Boolean)));
    }
    redraw();
  }

  function cleanRules(rules) {
    return rules.map(function (r) {
      var o = {};
      Object.keys(r).forEach(function (k) { if (r[k] !== null && r[k] !== undefined && r[k] !== "") o[k] = r[k]; });
      if (!MONETARY[o.kind]) { delete o.amount; delete o.currency; }
      if (o.to !== "referrer") { delete o.from_count; delete o.to_count; }
      return o;
    });
  }

  function asks() {
    settingsPage("Asks", "kith invites people to share at natural moments (a purchase, a milestone, a kind review) and never asks too often. These rules decide.", function (p, ro) {
      var a = p.asks || {};
      var on = checkbox(a.enabled, { disabled: ro });
      var nums = [["not_before_days", "Days after joining before the first ask", "0"], ["min_days_between", "Days between two asks", "0"],
        ["max_per_30_days", "Most asks in 30 days", "0"], ["stop_after_ignored", "Stop after this many ignored asks", "0"],
        ["nps_min_score", "Lowest NPS score that leads to an ask (0-10)", "0"], ["answered_within_days", "Days an ask waits for a click", "1"]]
        .map(function (n) { return [n[0], n[1], input("number", a[n[0]], { min: n[2], max: n[0] === "nps_min_score" ? "10" : null, disabled: ro })]; });
      return [[check("Ask at moments", on, "Off: every moment is answered with a skip."), h("h2", { text: "Fatigue caps" })]
        .concat(nums.map(function (n) { return field(n[1], n[2]); })),
      function () {
        var body = { enabled: on.checked };
        nums.forEach(function (n) { if (n[2].value !== "") body[n[0]] = Number(n[2].value); });
        return { asks: body };
      }, askLog()];
    });
  }

  function askLog() {
    var box = h("section", { class: "card", "aria-label": "Recent asks" }, [h("h2", { text: "Recent asks" })]);
    Promise.all([api("GET", "/v1/asks?" + K.pq() + "&limit=20"), K.people()]).then(function (r) {
      var l = r[0], who = r[1];
      box.appendChild(K.table([["Person", function (a) { return K.person(who, a.participant); }],
        ["When", function (a) { return K.when(a.created_at); }],
        ["Answered", function (a) { return a.answered === null ? "waiting" : (a.answered ? "yes" : "no"); }]], l.data, "No asks yet.", "Recent asks"));
    }).catch(fail);
    return box;
  }

  var KINDS = ["credit", "cash", "discount", "free_month", "subscription_extension", "gift", "recognition", "access", "experience", "donation"];
  var MONETARY = { credit: 1, cash: 1, discount: 1, donation: 1 };

  function rituals() {
    settingsPage("Rituals", "Monthly moments of thanks: a spotlight on people who shared, and a short digest of their month.", function (p, ro) {
      var r = p.rituals || {}, sr = r.spotlight_reward || null;
      var rot = input("number", r.rotation_periods, { min: "0", disabled: ro });
      var auto = checkbox(r.auto_draft, { disabled: ro });
      var digest = checkbox(r.digest, { disabled: ro });
      var give = checkbox(!!sr, { disabled: ro });
      var kind = K.select(KINDS, sr ? sr.kind : "recognition", { disabled: ro });
      var amount = input("number", sr ? sr.amount : "", { min: "1", disabled: ro });
      var currency = input("text", sr ? sr.currency : "", { maxlength: "3", placeholder: "USD", disabled: ro });
      var desc = input("text", sr ? sr.description : "", { placeholder: "A handwritten card", disabled: ro });
      return [[h("h2", { text: "Spotlight" }), check("Draft last month's spotlight on the first of each month", auto),
        field("Months before a winner can be chosen again", rot), check("Give spotlight winners a reward", give),
        field("Reward kind", kind), field("Amount (minor units, money only)", amount), field("Currency (money only)", currency), field("Description", desc),
        h("h2", { text: "Digest" }), check("Send each person a monthly digest of their month", digest, "Only to people who had something happen, and who did not opt out.")],
      function () {
        var reward = null;
        if (give.checked) {
          reward = { kind: kind.value };
          if (MONETARY[kind.value]) { reward.amount = Number(amount.value); reward.currency = currency.value.toUpperCase(); }
          if (desc.value) reward.description = desc.value;
        }
        return { rituals: { rotation_periods: Number(rot.value || 0), auto_draft: auto.checked, digest: digest.checked, spotlight_reward: reward } };
      }];
    });
  }

  function landing() {
    settingsPage("Landing and public page", null, function (p, ro) {
      var mode = K.select([["redirect", "Send friends straight to your site"], ["page", "Show a kith welcome page first"]], p.landing || "redirect", { disabled: ro });
      var pub = checkbox(p.public_page, { disabled: ro });
      var domain = input("text", p.cookie_domain, { placeholder: "example.com", disabled: ro });
      var origins = h("textarea", { rows: "3", disabled: ro, value: (p.allowed_origins || []).join("\n") });
      var pageUrl = location.origin + "/programs/" + p.id;
      return [[h("h2", { text: "When a friend opens a link" }), field("Landing", mode, "The welcome page names who invited them, what they get and their code."),
        h("h2", { text: "Public program page" }), check("Publish the program's page", pub),
        h("p", { class: "hint" }, ["Its address: ", p.public_page ? h("a", { href: pageUrl, text: pageUrl }) : h("code", { text: pageUrl })]),
        h("h2", { text: "Your own site" }), field("Cookie domain", domain, "Leave empty unless kith runs on a subdomain of your site."),
        field("Sites allowed to use kith.js and the hub", origins, "One origin a line, e.g. https://example.com")],
      function () {
        return { landing: mode.value, public_page: pub.checked, cookie_domain: domain.value || null,
          allowed_origins: origins.value.split(/\s+/).filter(Boolean) };
      }];
    });
  }

  var METHODS = [["none", "Record only"], ["stripe_balance", "Stripe balance credit"], ["stripe_coupon", "Stripe coupon code"],
    ["stripe_trial", "Stripe trial extension"], ["payout", "Payout queue (PayPal CSV)"], ["claim", "Claim: the person tells you what they need"]];

  function fulfilment() {
    settingsPage("Reward delivery", "How each kind of reward reaches the person. Stripe methods call Stripe with your key; payouts wait in the payout queue; claims ask the person for an address or a choice.", function (p, ro) {
      var f = p.fulfilment || {};
      var sels = KINDS.map(function (k) { return [k, K.select(METHODS, f[k] || "none", { disabled: ro })]; });
      var key = input("password", "", { autocomplete: "off", placeholder: p.stripe_api_key ? "set, ending " + p.stripe_api_key.replace(/^\.+/, "") : "sk_live_… or rk_live_…", disabled: ro });
      var form = h("textarea", { rows: "6", class: "code", disabled: ro, value: JSON.stringify(p.claim_form || {}, null, 2) });
      return [[h("h2", { text: "Per kind of reward" })].concat(sels.map(function (s) { return field(s[0].replace(/_/g, " "), s[1]); }))
        .concat([h("h2", { text: "Stripe" }), h("p", {}, ["Stripe API key: ", h("strong", { text: p.stripe_api_key ? "set, ending " + p.stripe_api_key.replace(/^\.+/, "") : "not set" })]),
          field("New Stripe API key", key, "Shown only as its last four characters once saved. Leave empty to keep the current one."),
          h("h2", { text: "Claim forms" }), field("Fields a claim asks for, per kind (JSON)", form, "e.g. {\"gift\": [{\"name\": \"address\", \"type\": \"address\", \"required\": true}]}")]),
      function () {
        var body = { fulfilment: {} };
        sels.forEach(function (s) { body.fulfilment[s[0]] = s[1].value; });
        if (key.value) body.stripe_api_key = key.value;
        try { body.claim_form = JSON.parse(form.value || "{}"); } catch (x) { throw new Error("The claim forms are not valid JSON"); }
        return body;
      }];
    });
  }

  var PAGES = { asks: asks, rituals: rituals, landing: landing, fulfilment: fulfilment };
  K.settingsPages = PAGES;
  K.screens.settings = function (sub) { return (PAGES[sub] || basics)(); };
})();
