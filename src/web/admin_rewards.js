/* kith dashboard: rewards (redeem, void, CSV) with how each is delivered (CONTRACT 25: its
 * fulfilment, a failed one retried), one reward with its claim (what the person sent, marked
 * delivered), and the payout queue (the PayPal CSV, marking a batch paid). */
(function () {
  "use strict";
  var K = window.kithAdmin, h = K.h, api = K.api, toast = K.toast, fail = K.fail, screen = K.screen;
  var table = K.table, when = K.when, pq = K.pq, picker = K.picker, state = K.state;

  var METHOD = { none: "Recorded only", stripe_balance: "Stripe balance credit", stripe_coupon: "Stripe coupon",
    stripe_trial: "Stripe trial extension", payout: "Payout queue", claim: "Claim by the person" };
  var FSTATUS = { pending: "on its way", done: "delivered", failed: "failed" };

  function what(w) {
    return w.amount !== null && w.amount !== undefined ? K.money(w.amount, w.currency) + " " + w.kind.replace(/_/g, " ") : (w.description || w.kind);
  }

  /* The delivery state in words: a held reward waits, a claim waits for the person's answer. */
  function stateText(w) {
    var f = w.fulfilment;
    if (f.status !== "pending") return FSTATUS[f.status] || f.status;
    if (w.status === "pending") return "after the hold";
    if (f.method === "claim") return f.claim && f.claim.claimed_at ? "answered: to deliver" : "waiting for their answer";
    if (f.method === "payout") return "in the queue";
    return FSTATUS.pending;
  }

  function fulfilmentText(w) {
    var f = w.fulfilment;
    if (!f || f.method === "none") return h("span", { class: "soft", text: "Recorded only" });
    return h("span", {}, [METHOD[f.method] || f.method, " · ",
      h("span", { class: "pill pill-" + f.status, text: stateText(w) }),
      f.code ? h("span", {}, [" · code ", h("code", { text: f.code })]) : null,
      f.error ? h("span", { class: "error-text" }, [h("br"), f.error]) : null]);
  }

  function retry(w, then) {
    return h("button", { class: "button small", text: "Retry delivery", "aria-label": "Retry delivery of " + w.id, onclick: function () {
      api("POST", "/v1/rewards/" + w.id + "/fulfilment/retry", {}).then(function () { toast("Retrying"); then(); }).catch(fail);
    } });
  }

  /* Voiding stops a Stripe delivery only while nothing reached Stripe; a call that may have had
   * its effect finishes under its own key (docs/internals/fulfilment.md). Said once, above the
   * list, when one of its Void buttons is for a reward delivered through Stripe. */
  var VOID_STRIPE = "Voiding stops a Stripe delivery only if nothing has been sent to Stripe yet. " +
    "One already sent still completes; undo it in Stripe if you need to.";
  function viaStripe(w) { return !!(w.fulfilment && /^stripe_/.test(w.fulfilment.method)); }
  function voidable(w) { return w.status === "issued" || w.status === "pending"; }

  function tabs() {
    return K.tabs("Rewards", [["/admin/rewards", "All rewards"], ["/admin/payouts", "Payout queue"]]);
  }

  function rewards() {
    var out = h("div");
    var status = K.select([["", "Any status"], "pending", "issued", "redeemed", "expired", "voided"], "", { onchange: load });
    function load() {
      Promise.all([api("GET", "/v1/rewards?" + pq() + "&limit=100" + (status.value ? "&status=" + status.value : "")), K.people()]).then(function (r) {
        var l = r[0], who = r[1];
        var stripeVoid = K.owner() && l.data.some(function (w) { return voidable(w) && viaStripe(w); });
        out.replaceChildren.apply(out, (stripeVoid ? [h("p", { class: "notice-soft", id: "void-stripe-note", text: VOID_STRIPE })] : []).concat([
          table([["For", function (w) { return K.person(who, w.participant); }],
          ["What", function (w) { return h("a", { href: "/admin/rewards/" + w.id, text: what(w) }); }],
          ["Status", function (w) { return w.status; }], ["Delivery", function (w) { return fulfilmentText(w); }],
          ["When", function (w) { return when(w.created_at); }],
          ["", function (w) {
            if (!K.owner()) return "";
            var f = w.fulfilment || {};
            var acts = [];
            if (f.status === "failed" && f.method !== "claim" && f.method !== "payout") acts.push(retry(w, load));
            if (f.method === "claim" && f.status !== "done") acts.push(h("a", { class: "button small secondary", href: "/admin/rewards/" + w.id, text: "See the claim" }));
            if (w.status === "issued") acts.push(h("button", { class: "button small", text: "Redeem", onclick: function () { api("POST", "/v1/rewards/" + w.id + "/redeem", {}).then(function () { toast("Redeemed"); load(); }).catch(fail); } }));
            if (voidable(w)) acts.push(h("button", { class: "button small danger", text: "Void", "aria-describedby": viaStripe(w) ? "void-stripe-note" : null, onclick: function () { api("POST", "/v1/rewards/" + w.id + "/void", { reason: "voided from the dashboard" }).then(function () { toast("Voided"); load(); }).catch(fail); } }));
            return acts.length ? h("span", { class: "row-actions" }, acts) : "";
          }]], l.data, "No rewards here yet.", "Rewards")]));
      }).catch(fail);
    }
    screen("Rewards", [picker(), tabs(), h("div", { class: "search" }, [K.field("Show", status)]), out,
      h("p", {}, [h("a", { href: "/v1/exports/rewards.csv?" + pq(), download: "rewards.csv", text: "Download as CSV" })])]);
    load();
  }

  function givenFor(w) {
    var s = w.source;
    if (w.referral) return w.to === "referred" ? "joining through a friend" : "bringing a friend";
    if (s && s.track) return "reaching " + s.level + " on the " + s.track + " track";
    if (s && s.spotlight) return "a spotlight";
    return s ? Object.keys(s).map(function (k) { return k + " " + s[k]; }).join(", ") : null;
  }

  function addressText(a) {
    if (!a || typeof a !== "object") return a;
    return [a.name, a.line1, a.line2, [a.postal_code, a.city].filter(Boolean).join(" "), a.state, a.country].filter(Boolean).join("\n");
  }

  function reward(id) {
    api("GET", "/v1/rewards/" + id).then(function (w) {
      var f = w.fulfilment || {};
      var claimBox = h("div");
      var forWho = h("a", { href: "/admin/participants/" + w.participant, text: w.participant });
      K.people().then(function (m) { if (m[w.participant]) forWho.textContent = m[w.participant].first_name || m[w.participant].email || w.participant; }).catch(function () {});
      var acts = h("div", { class: "actions" });
      if (K.owner() && f.status === "failed" && f.method !== "claim" && f.method !== "payout") acts.appendChild(retry(w, function () { reward(id); }));
      screen("Reward", [h("p", {}, [h("a", { href: "/admin/rewards", text: "← All rewards" })]),
        h("div", { class: "card" }, [K.facts([["What", what(w)], ["For", forWho],
          ["Given for", givenFor(w)], ["Status", w.status],
          ["Created", when(w.created_at)], ["Issued", when(w.issued_at)], ["Delivery", METHOD[f.method] || f.method],
          ["Delivery status", f.method ? stateText(w) : null], ["Attempts", f.attempts], ["Made in Stripe", f.external_id],
          ["Promotion code", f.code], ["Last error", f.error], ["Delivered", when(f.completed_at)]])]), acts, claimBox]);
      if (f.method !== "claim") return;
      api("GET", "/v1/rewards/" + id + "/claim").then(function (c) {
        var rows = (c.form || []).map(function (fl) {
          var a = c.answers ? c.answers[fl.name] : null;
          return [fl.label || fl.name, a === null || a === undefined ? "—" : h("span", { class: "pre", text: String(addressText(a)) })];
        });
        if (!rows.length && c.answers) Object.keys(c.answers).forEach(function (k) { rows.push([k, String(c.answers[k])]); });
        var state = { open: "Waiting for the person to fill it in", claimed: "Sent by the person on " + when(c.claimed_at), delivered: "Delivered" }[c.status] || c.status;
        claimBox.replaceChildren(h("section", { class: "card", "aria-label": "Claim" }, [h("h2", { text: "What they sent" }),
          h("p", { class: "lead", text: state }), rows.length ? K.facts(rows) : h("p", { class: "empty", text: "Nothing yet." }),
          K.owner() && c.status !== "delivered" ? h("div", { class: "actions" }, [h("button", { class: "button", text: "Mark delivered", onclick: function () {
            api("POST", "/v1/rewards/" + id + "/fulfilment/delivered", {}).then(function () { toast("Marked delivered"); reward(id); }).catch(fail);
          } })]) : null]));
      }).catch(fail);
    }).catch(fail);
  }

  function payouts() {
    var out = h("div"), paid = h("div");
    var chosen = {};
    var markBtn = K.owner() ? h("button", { class: "button", text: "Mark selected paid", onclick: function () {
      var ids = Object.keys(chosen).filter(function (k) { return chosen[k]; });
      if (!ids.length) { toast("Select the payouts you have sent"); return; }
      api("POST", "/v1/payouts/mark_paid", { rewards: ids }).then(function (r) { toast(r.rewards.length + " marked paid"); payouts(); }).catch(fail);
    } }) : null;
    screen("Payout queue", [picker(), tabs(),
      h("p", { class: "lead", text: "Cash rewards wait here. Download the batch for PayPal Payouts, send it, then mark what you sent as paid." }),
      h("div", { class: "actions" }, [h("a", { class: "button secondary", href: "/v1/payouts.csv?" + pq(), download: "payouts-" + state.program + ".csv", text: "Download the PayPal CSV" }), markBtn]),
      out, h("h2", { text: "Paid" }), paid]);
    Promise.all([api("GET", "/v1/rewards?" + pq() + "&limit=500"), K.people()]).then(function (r) {
      var l = r[0], who = r[1];
      var q = l.data.filter(function (w) { return w.fulfilment && w.fulfilment.method === "payout"; });
      var waiting = q.filter(function (w) { return w.status === "issued"; });
      var done = q.filter(function (w) { return w.status === "redeemed"; });
      var cols = [["For", function (w) { return K.person(who, w.participant); }], ["E-mail", function (w) { return (who[w.participant] || {}).email; }],
        ["Amount", function (w) { return K.money(w.amount, w.currency); }], ["Since", function (w) { return when(w.issued_at); }]];
      var pick = K.owner() ? [["Select", function (w) {
        var c = K.checkbox(false, { "aria-label": "Select " + K.money(w.amount, w.currency) + " for " + ((who[w.participant] || {}).first_name || w.participant), "data-reward": w.id });
        c.addEventListener("change", function () { chosen[w.id] = c.checked; });
        return c;
      }]] : [];
      out.replaceChildren(table(pick.concat(cols), waiting, "No payouts are waiting.", "Waiting payouts"));
      paid.replaceChildren(table(cols.concat([["Paid", function (w) { return when(w.redeemed_at); }]]), done, "None paid yet.", "Paid payouts"));
    }).catch(fail);
  }

  Object.assign(K.screens, { rewards: function (id) { return id ? reward(id) : rewards(); }, payouts: payouts });
})();
