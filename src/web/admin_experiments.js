/* kith dashboard: experiments (CONTRACT 23), "is a bigger thank-you worth it?" tested rather
 * than guessed. The list, a new experiment (variants of the reward rules with their weights,
 * the metric, guardrails, an end date), and one experiment's results: per variant the counts,
 * the metric's 95% interval (drawn, and as a table), the chance each variant is best, the
 * guardrails breached, and the owner's start, stop and promote. A reviewer reads the results
 * and gets no actions (the server refuses them a reviewer's writes anyway). */
(function () {
  "use strict";
  var K = window.kithAdmin, h = K.h, api = K.api, fail = K.fail, screen = K.screen, state = K.state;
  var field = K.field, input = K.input, I = K.insight;

  var METRICS = [["qualified_per_referrer", "New customers per person who shared"],
    ["signups_per_referrer", "Friends signed up per person who shared"],
    ["qualification_rate", "Share of friends who became customers"]];
  var STATUS = { draft: "Not started", running: "Running", stopped: "Stopped", promoted: "Winner promoted" };
  var KINDS = ["credit", "cash", "discount", "free_month", "subscription_extension", "gift", "recognition", "access", "experience", "donation"];
  var MONETARY = { credit: 1, cash: 1, discount: 1, donation: 1 };

  function metricName(m) { return (METRICS.filter(function (x) { return x[0] === m; })[0] || [m, m])[1]; }
  function pill(status) { return h("span", { class: "pill exp-" + status, text: STATUS[status] || status }); }
  function day(t) { return t ? new Date(t).toLocaleDateString("en", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }) : "—"; }
  var program = K.program;
  function path(e) { return "/admin/experiments/" + encodeURIComponent(e.id); }
  /* The form's address is no experiment's: /admin/experiments/{id} takes any id the API allows,
   * "new" included. */
  var FORM = "/admin/new-experiment";

  function rate(e, v) {
    if (!I.isNum(v)) return I.NOT_YET;
    return e.metric === "qualification_rate" ? I.pct(v) : (Math.round(v * 100) / 100).toFixed(2);
  }
  function rateWithRange(e, r) {
    if (!I.isNum(r.value)) return I.NOT_YET;
    return rate(e, r.value) + " (" + rate(e, r.low) + " to " + rate(e, r.high) + ")";
  }

  function ruleText(r) {
    var who = r.to === "referred" ? "Friend" : "Sharer";
    var what = MONETARY[r.kind] ? K.money(r.amount, r.currency).trim() + " " + r.kind.replace(/_/g, " ") : (r.description || r.kind.replace(/_/g, " "));
    var tier = r.to === "referrer" && (r.from_count > 1 || r.to_count) ? " (friend " + (r.from_count || 1) + (r.to_count ? " to " + r.to_count : " on") + ")" : "";
    return who + ": " + what + tier;
  }
  function rulesText(rules) {
    return rules === null || rules === undefined ? "The program's rewards" : rules.length ? rules.map(ruleText).join("; ") : "No rewards";
  }
  function leader(e) {
    var best = null;
    e.variants.forEach(function (v) { if (!best || v.probability_best > best.probability_best) best = v; });
    return best;
  }

  /* ---- the list ---- */
  function list() {
    var out = h("div");
    screen("Experiments", [K.picker(), h("p", { class: "lead", text: "Try different rewards side by side with a share of the people who share, and keep what works." }),
      K.readOnlyNote(), K.owner() ? h("p", { class: "actions" }, [h("a", { class: "button", href: FORM, text: "New experiment" })]) : null, out]);
    api("GET", "/v1/experiments?" + K.pq() + "&limit=100").then(function (l) {
      var rows = l.data.slice().reverse();
      out.replaceChildren(K.table([["Experiment", function (e) { return h("a", { href: path(e), text: e.name }); }],
        ["Status", function (e) { return pill(e.status); }],
        ["Measures", function (e) { return metricName(e.metric); }],
        ["Variants", function (e) { return e.variants.map(function (v) { return v.id; }).join(", "); }],
        ["Leading", function (e) {
          var b = leader(e);
          return e.status === "draft" || !b ? "—" : e.promoted_variant ? e.promoted_variant + " (promoted)" : b.id + ", " + I.pct(b.probability_best) + " chance best";
        }],
        ["Started", function (e) { return day(e.started_at); }]], rows, "No experiments yet.", "Experiments"));
    }).catch(fail);
  }

  /* ---- a new experiment ---- */
  function ruleRow(r, rules, i, redraw) {
    var to = K.select([["referrer", "The person who shared"], ["referred", "The friend"]], r.to, { onchange: function () { r.to = to.value; redraw(); } });
    var kind = K.select(KINDS, r.kind, { onchange: function () { r.kind = kind.value; redraw(); } });
    var kids = [field("Who gets it", to), field("Kind", kind)];
    if (MONETARY[r.kind]) {
      var amt = input("number", I.isNum(r.amount) ? r.amount / 100 : "", { min: "0.01", step: "0.01", required: true });
      amt.addEventListener("input", function () { r.amount = amt.value === "" ? null : Math.round(Number(amt.value) * 100); });
      var cur = input("text", r.currency, { maxlength: "3", required: true, placeholder: "USD" });
      cur.addEventListener("input", function () { r.currency = cur.value.toUpperCase(); });
      kids.push(field("Amount", amt), field("Currency", cur));
    } else {
      var desc = input("text", r.description, { required: true, placeholder: "Your first month on us" });
      desc.addEventListener("input", function () { r.description = desc.value || null; });
      kids.push(field("In words", desc));
    }
    if (r.to === "referrer") {
      var from = input("number", r.from_count, { min: "1", placeholder: "1" });
      from.addEventListener("input", function () { r.from_count = K.numOrNull(from); });
      var upto = input("number", r.to_count, { min: "1", placeholder: "no end" });
      upto.addEventListener("input", function () { r.to_count = K.numOrNull(upto); });
      kids.push(field("From friend no.", from), field("Up to friend no.", upto));
    }
    return h("div", { class: "exp-rule" }, [h("div", { class: "inline" }, kids),
      h("button", { type: "button", class: "button small danger", text: "Remove this reward", onclick: function () { rules.splice(i, 1); redraw(); } })]);
  }

  function cleanRules(rules) {
    return rules.map(function (r) {
      var o = { to: r.to, kind: r.kind };
      if (MONETARY[r.kind]) { o.amount = r.amount; o.currency = r.currency; } else o.description = r.description;
      if (r.description && MONETARY[r.kind]) o.description = r.description;
      if (r.to === "referrer") {
        if (I.isNum(r.from_count)) o.from_count = r.from_count;
        if (I.isNum(r.to_count)) o.to_count = r.to_count;
      }
      if (I.isNum(r.expires_days)) o.expires_days = r.expires_days;
      return o;
    });
  }

  function variantCard(v, variants, i, redraw) {
    var id = input("text", v.id, { required: true, pattern: "[a-z0-9_-]{1,40}" });
    id.addEventListener("input", function () { v.id = id.value; });
    var weight = input("number", v.weight, { required: true, min: "1", step: "1" });
    weight.addEventListener("input", function () { v.weight = K.numOrNull(weight); });
    var own = K.select([["program", "The program's current rewards"], ["own", "Rewards of its own"]], v.rules ? "own" : "program", { onchange: function () {
      v.rules = own.value === "own" ? JSON.parse(JSON.stringify(program().rewards || [])) : null; redraw();
    } });
    var rules = v.rules ? h("div", { class: "exp-rules" }, v.rules.map(function (r, j) { return ruleRow(r, v.rules, j, redraw); }).concat([
      h("button", { type: "button", class: "button small secondary", text: "Add a reward", onclick: function () {
        v.rules.push({ to: "referrer", kind: "credit", amount: 1000, currency: program().currency || "USD" }); redraw();
      } })])) : null;
    return h("fieldset", { class: "level exp-variant" }, [h("legend", { text: "Variant " + (i + 1) + (v.id ? ": " + v.id : "") }),
      h("div", { class: "inline" }, [field("Short name", id, "Lower-case letters, digits, - and _."), field("Weight", weight, "Its share of people, relative to the others.")]),
      field("Rewards", own), rules,
      variants.length > 2 ? h("button", { type: "button", class: "button small danger", text: "Remove variant " + (v.id || i + 1), onclick: function () { variants.splice(i, 1); redraw(); } }) : null]);
  }

  function create() {
    if (!K.owner()) {
      screen("New experiment", [K.readOnlyNote(), h("p", {}, [h("a", { href: "/admin/experiments", text: "Back to the experiments" })])]);
      return;
    }
    var p = program(), cur = p.currency || "USD";
    var variants = [{ id: "control", weight: 50, rules: null }, { id: "bigger", weight: 50, rules: JSON.parse(JSON.stringify(p.rewards || [])) }];
    var name = input("text", "", { required: true, maxlength: "200", placeholder: "A bigger thank-you" });
    var id = input("text", "", { required: true, pattern: "[a-z0-9_-]{1,40}", placeholder: "bigger-thanks" });
    name.addEventListener("input", function () { id.value = name.value.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40); });
    var metric = K.select(METRICS, "qualified_per_referrer");
    var maxCost = input("number", "", { min: "0", step: "0.01", placeholder: "no limit" });
    var maxCostCur = input("text", cur, { maxlength: "3" });
    var maxReview = input("number", "", { min: "0", max: "100", step: "0.1", placeholder: "no limit" });
    var maxDays = input("number", "56", { min: "1", max: "3650", placeholder: "no end" });
    var box = h("div");
    var msg = h("p", { class: "error", role: "alert" });
    function redraw() {
      box.replaceChildren.apply(box, variants.map(function (v, i) { return variantCard(v, variants, i, redraw); }).concat([
        variants.length < 8 ? h("button", { type: "button", class: "button small secondary", text: "Add a variant", onclick: function () {
          variants.push({ id: "variant-" + (variants.length + 1), weight: 50, rules: JSON.parse(JSON.stringify(p.rewards || [])) }); redraw();
        } }) : null]));
    }
    redraw();
    var form = h("form", { class: "card", onsubmit: function (ev) {
      ev.preventDefault();
      msg.textContent = "";
      var body = { program: state.program, id: id.value, name: name.value, metric: metric.value,
        variants: variants.map(function (v) { var o = { id: v.id, weight: v.weight }; if (v.rules) o.rewards = cleanRules(v.rules); return o; }),
        guardrails: {} };
      if (maxCost.value !== "") { body.guardrails.max_cost_per_qualified = {}; body.guardrails.max_cost_per_qualified[maxCostCur.value.toUpperCase()] = Math.round(Number(maxCost.value) * 100); }
      if (maxReview.value !== "") body.guardrails.max_review_rate = Number(maxReview.value) / 100;
      if (maxDays.value !== "") body.max_days = Number(maxDays.value);
      api("POST", "/v1/experiments", body).then(function (e) { K.toast("Experiment created"); K.go(path(e)); })
        .catch(function (e) { msg.textContent = e.message + (e.body && e.body.error && e.body.error.param ? " (" + e.body.error.param + ")" : ""); });
    } }, [h("h2", { text: "What you are testing" }), field("Name", name), field("Short id", id, "Lower-case letters, digits, - and _; it cannot change."),
      field("What counts as better", metric, "Compared between the variants, with a 95% range and the chance each one is best."),
      h("h2", { text: "Variants" }), h("p", { class: "hint", text: "Each person who shares is placed in one variant for the experiment's life, in proportion to the weights. Their friends' rewards follow that variant too." }), box,
      h("h2", { text: "Guardrails" }), h("p", { class: "hint", text: "Limits you do not want a variant to cross. A variant that crosses one is flagged on the results; you decide what to do." }),
      h("div", { class: "pair" }, [field("Highest reward cost per new customer", maxCost, "Rewards, both sides, per friend who becomes a customer."), field("Currency", maxCostCur)]),
      field("Highest share of referrals sent to review (%)", maxReview),
      field("Stop by itself after (days)", maxDays, "Empty: it runs until you stop it."),
      msg, h("div", { class: "actions" }, [h("button", { type: "submit", class: "button", text: "Create the experiment" }),
        h("a", { class: "button secondary", href: "/admin/experiments", text: "Cancel" })])]);
    screen("New experiment", [K.picker(), h("p", { class: "lead", text: "It starts as a draft: nothing changes for anyone until you start it." }), form]);
  }

  /* ---- one experiment ---- */
  function intervalChart(e) {
    var W = 400, rowH = 40, L = 92, R = 28, T = 8, vs = e.variants, H = T + rowH * vs.length + 28;
    var top = 0;
    vs.forEach(function (v) { if (I.isNum(v.rate.high)) top = Math.max(top, v.rate.high); });
    top = e.metric === "qualification_rate" ? 1 : I.niceMax(top);
    var s = I.svg, pw = W - L - R;
    function x(v) { return L + pw * v / top; }
    var g = s("svg", { viewBox: "0 0 " + W + " " + H, class: "chart insight-chart interval", role: "img",
      "aria-label": "Each variant's " + metricName(e.metric).toLowerCase() + " with its 95% range: " + vs.map(function (v) { return v.id + " " + rateWithRange(e, v.rate); }).join("; ") });
    [0, 0.5, 1].forEach(function (f) {
      g.appendChild(s("line", { x1: x(top * f), x2: x(top * f), y1: T, y2: H - 24, class: "grid" }));
      g.appendChild(s("text", { x: x(top * f), y: H - 6, "text-anchor": "middle", class: "axis" }, [rate(e, top * f)]));
    });
    vs.forEach(function (v, i) {
      var cy = T + rowH * i + rowH / 2;
      g.appendChild(s("text", { x: L - 10, y: cy + 5, "text-anchor": "end", class: "axis label" }, [v.id]));
      if (!I.isNum(v.rate.value)) {
        g.appendChild(s("text", { x: L + 6, y: cy + 5, class: "axis" }, [I.NOT_YET]));
        return;
      }
      g.appendChild(s("rect", { x: x(v.rate.low), y: cy - 7, width: Math.max(x(v.rate.high) - x(v.rate.low), 2), height: 14, rx: 7, class: "range s" + (i % 4) }));
      g.appendChild(s("circle", { cx: x(v.rate.value), cy: cy, r: 7, class: "dot s" + (i % 4) }));
    });
    return g;
  }

  function breachText(e, b) {
    if (b.guardrail === "max_cost_per_qualified") {
      return b.variant + ": each friend who became a customer cost " + I.money(b.value, b.currency) + " in rewards, above your limit of " + I.money(b.limit, b.currency) + ".";
    }
    if (b.guardrail === "max_review_rate") {
      return b.variant + ": " + I.pct(b.value) + " of its referrals went to review, above your limit of " + I.pct(b.limit) + ".";
    }
    return b.variant + ": " + b.guardrail + " is " + b.value + ", above " + b.limit + ".";
  }

  function guardrailsText(e) {
    var g = e.guardrails || {}, out = [];
    if (g.max_cost_per_qualified) Object.keys(g.max_cost_per_qualified).forEach(function (c) { out.push("reward cost per customer at most " + I.money(g.max_cost_per_qualified[c], c)); });
    if (I.isNum(g.max_review_rate)) out.push("at most " + I.pct(g.max_review_rate) + " of referrals to review");
    return out.length ? out.join("; ") : "None";
  }

  function detail(eid) {
    var out = h("div", { "aria-live": "polite" });
    screen("Experiment", [K.picker(), h("p", {}, [h("a", { href: "/admin/experiments", text: "All experiments" })]), out]);
    function act(verb, body, done) {
      return api("POST", "/v1/experiments/" + encodeURIComponent(eid) + "/" + verb, body || {}).then(function (e) {
        K.toast(done);
        if (verb === "promote") {
          return api("GET", "/v1/programs/" + encodeURIComponent(state.program)).then(function (np) {
            state.programs = state.programs.map(function (x) { return x.id === np.id ? np : x; });
            draw(e);
          });
        }
        draw(e);
      }).catch(fail);
    }
    function draw(e) {
      document.title = e.name + " · kith";
      main().querySelector("h1").textContent = e.name;
      var own = K.owner(), canPromote = own && (e.status === "running" || e.status === "stopped");
      var confirmBox = h("div", { class: "exp-confirm", "aria-live": "polite" });
      function askPromote(v) {
        confirmBox.replaceChildren(h("div", { class: "notice exp-confirm-box", role: "group", "aria-label": "Confirm promotion" }, [
          h("p", { text: "Make " + v.id + "'s rewards the program's for everyone? " + (v.rewards ? "The program's rewards become: " + rulesText(v.rewards) + "." : "It uses the program's rewards already, so they stay as they are.") +
            (e.status === "running" ? " The experiment stops first." : "") }),
          h("div", { class: "actions" }, [h("button", { type: "button", class: "button", text: "Yes, promote " + v.id, onclick: function () { act("promote", { variant: v.id }, v.id + " promoted"); } }),
            h("button", { type: "button", class: "button secondary", text: "Cancel", onclick: function () { confirmBox.replaceChildren(); } })])]));
        confirmBox.querySelector("button").focus();
      }
      var autoStopped = e.status !== "draft" && e.status !== "running" && e.ends_at && e.stopped_at === e.ends_at;
      var notes = [];
      if (e.status === "running" && e.ends_at) notes.push(h("p", { class: "notice-soft", text: "Running since " + day(e.started_at) + ". It stops by itself on " + day(e.ends_at) + "." }));
      if (autoStopped) notes.push(h("p", { class: "notice-soft exp-autostop", text: "It stopped by itself on " + day(e.stopped_at) + ": its " + e.max_days + " days were up. Promote a variant to keep its rewards." }));
      if (e.status === "promoted") notes.push(h("p", { class: "notice-soft exp-promoted", text: e.promoted_variant + " was promoted: its rewards are now the program's." }));
      if (e.status === "draft") notes.push(h("p", { class: "notice-soft", text: "Not started yet: nothing has changed for anyone." }));
      var actions = own ? h("div", { class: "actions" }, [
        e.status === "draft" ? h("button", { type: "button", class: "button", text: "Start the experiment", onclick: function () { act("start", {}, "Experiment started"); } }) : null,
        e.status === "running" ? h("button", { type: "button", class: "button secondary", text: "Stop the experiment", onclick: function () { act("stop", {}, "Experiment stopped"); } }) : null,
        h("button", { type: "button", class: "button secondary", text: "Refresh the results", onclick: function () { load(); } })]) : null;
      var breached = e.guardrails_breached.length ? h("section", { class: "card exp-breaches", "aria-labelledby": "breach-h" }, [
        h("h2", { id: "breach-h", text: "Guardrails crossed" }),
        h("ul", {}, e.guardrails_breached.map(function (b) { return h("li", { text: breachText(e, b) }); })),
        h("p", { class: "hint", text: "A crossed guardrail does not stop the experiment: stop it, or promote another variant, if it matters to you." })]) : null;
      var total = e.variants.reduce(function (t, v) { return t + v.weight; }, 0);
      var cols = [["Variant", function (v) {
        return h("span", { class: "exp-name" }, [h("strong", { text: v.id }), h("span", { class: "hint", text: Math.round(v.weight * 100 / total) + "% of people (weight " + v.weight + ")" })]);
      }],
        ["Rewards", function (v) { return v.rewards ? h("ul", { class: "plain-rules" }, v.rewards.map(function (r) { return h("li", { text: ruleText(r) }); })) : rulesText(v.rewards); }],
        ["People sharing", function (v) { return String(v.referrers); }],
        ["Friends joined", function (v) { return String(v.signups); }],
        ["New customers", function (v) { return String(v.qualified); }],
        ["Result (95% range)", function (v) { return h("span", { "data-figure": "rate." + v.id, text: rateWithRange(e, v.rate) }); }],
        ["Chance best", function (v) { return h("span", { "data-figure": "best." + v.id, text: I.pct(v.probability_best) }); }],
        ["Cost per customer", function (v) {
          var c = v.cost_per_qualified || {};
          var keys = Object.keys(c);
          return keys.length ? keys.map(function (k) { return I.money(c[k], k); }).join(", ") : I.NOT_YET;
        }],
        ["To review", function (v) { return I.pct(v.review_rate); }]];
      var promote = canPromote ? h("section", { class: "card exp-promote", "aria-labelledby": "promote-h" }, [h("h2", { id: "promote-h", text: "Keep a variant" }),
        h("p", { class: "hint", text: "Promoting a variant makes its rewards the program's rewards for everyone" + (e.status === "running" ? ", and stops the experiment." : ".") }),
        h("div", { class: "actions" }, e.variants.map(function (v) {
          return h("button", { type: "button", class: "button secondary", text: "Promote " + v.id, onclick: function () { askPromote(v); } });
        })), confirmBox]) : null;
      var st = e.statistics || {};
      out.replaceChildren.apply(out, [h("p", {}, [pill(e.status)]), K.readOnlyNote(), h("div", { class: "notes" }, notes),
        K.facts([["Measures", metricName(e.metric)], ["Created", day(e.created_at)], ["Started", day(e.started_at)],
          ["Stops", e.stopped_at ? day(e.stopped_at) : e.ends_at ? day(e.ends_at) + " (by itself)" : e.max_days ? "after " + e.max_days + " days" : "when you stop it"],
          ["Guardrails", guardrailsText(e)]]),
        actions, breached,
        h("h2", { text: "Results" }),
        h("p", { class: "hint", text: "Counts cover the referrals made while it ran. The range is where the true figure lies 95 times out of 100 (" +
          (st.interval === "wilson" ? "Wilson interval" : "Poisson score interval") + "); the chance of being best comes from a " +
          (st.model === "gamma_poisson" ? "Gamma-Poisson" : "Beta-Binomial") + " model with a " + (st.prior || "uniform") + " prior." }),
        h("figure", { class: "card insight-figure exp-chart" }, [h("h3", { text: metricName(e.metric) + ": each variant's result with its 95% range" }), intervalChart(e),
          h("figcaption", { class: "hint", text: "Each bar is a variant's range; the dot is what it measured. Overlapping bars mean it is too early to tell. The table below has the same figures." })]),
        K.table(cols, e.variants, "No variants.", "Results per variant"), promote].filter(Boolean));
    }
    function main() { return document.getElementById("main"); }
    function load() { api("GET", "/v1/experiments/" + encodeURIComponent(eid)).then(draw).catch(function (x) { out.replaceChildren(h("p", { class: "error", text: x.message })); fail(x); }); }
    load();
  }

  K.screens.experiments = function (sub) { return sub ? detail(sub) : list(); };
  K.screens["new-experiment"] = create;
})();
