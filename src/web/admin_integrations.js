/* kith dashboard: integrations (CONTRACT 11, 12, 21): webhook endpoints (added with their
 * secret shown once, paused, removed) and each one's delivery log with retry; the Stripe and
 * Shopify set-up (their webhook addresses, the secrets as the API shows them: the last four
 * characters); and API keys (created shown once, revoked at once). */
(function () {
  "use strict";
  var K = window.kithAdmin, h = K.h, api = K.api, toast = K.toast, fail = K.fail, screen = K.screen;
  var field = K.field, input = K.input, table = K.table, when = K.when, state = K.state;

  var EVENTS = ["participant.created", "referral.created", "referral.review", "referral.qualified", "referral.rewarded",
    "referral.rejected", "referral.expired", "reward.created", "reward.issued", "reward.redeemed", "reward.voided",
    "reward.expired", "notification.created", "participant.level_changed", "participant.level_pending",
    "participant.role_granted", "participant.role_revoked", "ask.created", "spotlight.drafted", "spotlight.published",
    "reward.fulfilled", "reward.fulfilment_failed", "reward.claimed"];

  function tabs() {
    return K.tabs("Integrations", [["/admin/integrations", "Webhooks"], ["/admin/integrations/providers", "Stripe and Shopify"], ["/admin/keys", "API keys"]]);
  }

  function once(label, secret) {
    return h("div", { class: "card notice" }, [h("p", { text: label }), h("p", { class: "secret-line" }, [h("code", { text: secret })])]);
  }

  function webhooks() {
    var out = h("div"), shown = h("div", { role: "status" });
    function load() {
      api("GET", "/v1/webhook_endpoints?limit=100").then(function (l) {
        out.replaceChildren(table([["Address", function (e) { return h("a", { href: "/admin/integrations/" + e.id, text: e.url }); }],
          ["Events", function (e) { return e.events && e.events.length ? e.events.join(", ") : "all"; }],
          ["Status", function (e) { return e.status; }], ["Note", function (e) { return e.description; }]],
        l.data, "No webhook endpoints yet.", "Webhook endpoints"));
      }).catch(fail);
    }
    var url = input("url", "", { required: true, placeholder: "https://example.com/hooks/kith" });
    var desc = input("text", "", { placeholder: "CRM sync" });
    var boxes = EVENTS.map(function (e) { return [e, K.checkbox(false)]; });
    var form = K.owner() ? h("form", { class: "card", onsubmit: function (ev) {
      ev.preventDefault();
      var evs = boxes.filter(function (b) { return b[1].checked; }).map(function (b) { return b[0]; });
      api("POST", "/v1/webhook_endpoints", { url: url.value, events: evs, description: desc.value || undefined }).then(function (e) {
        shown.replaceChildren(once("Copy the signing secret now: it is shown only once.", e.secret));
        url.value = ""; desc.value = ""; load();
      }).catch(fail);
    } }, [h("h2", { text: "Add an endpoint" }), field("Address", url), field("Note", desc),
      h("details", { class: "events-choice" }, [h("summary", { text: "Events: all, unless you choose some" }),
        h("fieldset", { class: "events" }, [h("legend", { text: "Send only these events" })].concat(boxes.map(function (b) { return K.check(b[0], b[1]); })))]),
      h("button", { class: "button", type: "submit", text: "Add endpoint" })]) : null;
    screen("Webhooks", [tabs(), h("p", { class: "lead", text: "kith tells your systems what happens, signed per the Standard Webhooks specification, and retries for a day and a half." }),
      shown, out, form]);
    load();
  }

  function endpoint(id) {
    api("GET", "/v1/webhook_endpoints/" + id).then(function (e) {
      var log = h("div");
      var seen = [], more = h("p"), cursor = null;
      function load(older) {
        if (!older) { seen = []; cursor = null; }
        api("GET", "/v1/webhook_endpoints/" + id + "/deliveries?limit=20" + (older && cursor ? "&cursor=" + encodeURIComponent(cursor) : "")).then(function (l) {
          seen = seen.concat(l.data);
          cursor = l.next_cursor;
          more.replaceChildren(l.has_more ? h("button", { class: "button small secondary", text: "Show older", onclick: function () { load(true); } }) : "");
          log.replaceChildren(table([["Event", function (d) { return d.type; }], ["When", function (d) { return when(d.attempted_at); }],
            ["Answer", function (d) { return d.status_code ? String(d.status_code) + (d.latency_ms !== null ? " in " + d.latency_ms + " ms" : "") : (d.error || "—"); }],
            ["Attempt", function (d) { return String(d.attempt); }], ["Next try", function (d) { return d.next_attempt_at ? when(d.next_attempt_at) : "—"; }],
            ["Message", function (d) { return h("code", { class: "id", text: d.message }); }],
            ["", function (d) {
              return K.owner() ? h("button", { class: "button small secondary", text: "Retry", "aria-label": "Retry " + d.message, onclick: function () {
                api("POST", "/v1/webhook_endpoints/" + id + "/deliveries/" + d.message + "/retry", {}).then(function () { toast("Sent again"); setTimeout(function () { load(false); }, 800); }).catch(fail);
              } }) : "";
            }]], seen, "Nothing delivered yet.", "Deliveries"));
        }).catch(fail);
      }
      var acts = K.owner() ? h("div", { class: "actions" }, [
        h("button", { class: "button secondary", text: e.status === "enabled" ? "Pause" : "Turn back on", onclick: function () {
          api("PATCH", "/v1/webhook_endpoints/" + id, { status: e.status === "enabled" ? "disabled" : "enabled" }).then(function () { toast("Saved"); endpoint(id); }).catch(fail);
        } }),
        h("button", { class: "button danger", text: "Remove", onclick: function () {
          if (!confirm("Remove this endpoint? Nothing more is sent to it.")) return;
          api("DELETE", "/v1/webhook_endpoints/" + id).then(function () { toast("Removed"); K.go("/admin/integrations"); }).catch(fail);
        } })]) : null;
      screen("Webhook endpoint", [tabs(), h("p", {}, [h("a", { href: "/admin/integrations", text: "← All endpoints" })]),
        h("div", { class: "card" }, [K.facts([["Address", e.url], ["Events", e.events && e.events.length ? e.events.join(", ") : "all"],
          ["Status", e.status], ["Note", e.description], ["Created", when(e.created_at)]])]), acts,
        h("h2", { text: "Delivery log" }), h("p", {}, [h("button", { class: "button small secondary", text: "Refresh", onclick: function () { load(false); } })]), log, more]);
      load();
    }).catch(fail);
  }

  function providers() {
    api("GET", "/v1/programs/" + encodeURIComponent(state.program)).then(function (p) {
      var base = location.origin + "/v1/integrations/";
      function card(name, key, path, steps) {
        var secret = input("password", "", { autocomplete: "off", minlength: "8" });
        var set = p[key];
        return h("section", { class: "card", "aria-label": name }, [h("h2", { text: name }),
          h("p", { text: "Webhook address to give " + name + ":" }), h("p", { class: "secret-line" }, [h("code", { text: base + path + "/" + p.id })]),
          h("ol", { class: "steps" }, steps.map(function (s) { return h("li", { text: s }); })),
          h("p", {}, ["Signing secret: ", h("strong", { text: set ? "set, ending " + set.replace(/^\.+/, "") : "not set yet" })]),
          K.owner() ? h("form", { class: "inline", onsubmit: function (ev) {
            ev.preventDefault();
            var body = {}; body[key] = secret.value;
            K.saveProgram(body).then(function () { providers(); }).catch(fail);
          } }, [field("New signing secret", secret), h("button", { class: "button secondary", type: "submit", text: "Save secret" })]) : null]);
      }
      screen("Stripe and Shopify", [K.picker(), tabs(), h("p", { class: "lead", text: "Purchases and refunds arrive from your shop by webhook; kith checks each one's signature." }), K.readOnlyNote(),
        card("Stripe", "stripe_webhook_secret", "stripe", ["In Stripe: Developers → Webhooks → Add endpoint, with the address above.",
          "Choose checkout.session.completed, invoice.paid and charge.refunded.", "Copy the endpoint's signing secret (whsec_…) here."]),
        card("Shopify", "shopify_webhook_secret", "shopify", ["In Shopify: Settings → Notifications → Webhooks, with the address above.",
          "Add orders/paid, refunds/create and orders/cancelled (and collections/* for resources).", "Copy the signing key shown under the list here."]),
        h("p", {}, ["Reward delivery through Stripe is set under ", h("a", { href: "/admin/settings/fulfilment", text: "Settings → Reward delivery" }), "."])]);
    }).catch(fail);
  }

  function keys() {
    var out = h("div"), shown = h("div", { role: "status" });
    var name = h("input", { placeholder: "CRM sync" });
    var kind = K.select([["secret", "Secret (server to server)"], ["publishable", "Publishable (web pages)"]], "secret");
    function load() {
      api("GET", "/v1/api_keys").then(function (l) {
        out.replaceChildren(table([["Name", function (k) { return k.name || (k.id === "key_env" ? "KITH_SECRET_KEY" : "—"); }], ["Kind", function (k) { return k.kind; }],
          ["Created", function (k) { return when(k.created_at); }], ["Last used", function (k) { return when(k.last_used_at); }],
          ["", function (k) {
            if (!K.owner()) return "";
            return h("button", { class: "button small danger", text: "Revoke", "aria-label": "Revoke " + (k.name || k.id), onclick: function () {
              if (!confirm("Revoke this key? Anything using it stops working at once.")) return;
              api("DELETE", "/v1/api_keys/" + k.id).then(function () { toast("Revoked"); load(); }).catch(fail);
            } });
          }]], l.data, "No keys made here yet. The KITH_SECRET_KEY set where kith starts is not listed and cannot be revoked here.", "API keys"));
      }).catch(fail);
    }
    var form = K.owner() ? h("form", { class: "card", onsubmit: function (ev) {
      ev.preventDefault();
      api("POST", "/v1/api_keys", { kind: kind.value, name: name.value || undefined }).then(function (k) {
        shown.replaceChildren(once("Copy this key now: it is shown only once.", k.key));
        name.value = ""; load();
      }).catch(fail);
    } }, [h("h2", { text: "New key" }), field("Name", name), field("Kind", kind), h("button", { class: "button", type: "submit", text: "Create key" })]) : null;
    screen("API keys", [tabs(), shown, out, form]);
    load();
  }

  K.screens.integrations = function (sub) { return sub === "providers" ? providers() : sub ? endpoint(sub) : webhooks(); };
  K.screens.keys = keys;
})();
