/* kith dashboard: shareable resources (CONTRACT 19): the list with each one's performance
 * (/v1/metrics by_resource), one resource created or edited, archiving, and the CSV import
 * (all or nothing, its faults shown by line). */
(function () {
  "use strict";
  var K = window.kithAdmin, h = K.h, api = K.api, toast = K.toast, fail = K.fail, screen = K.screen;
  var field = K.field, check = K.check, input = K.input, pq = K.pq, state = K.state;

  /* The form's address is no resource's: /admin/resources/{slug} takes any slug the API allows,
   * "new" included. */
  var FORM = "/admin/new-resource";

  var KINDS = [["guide", "Guide"], ["lead_magnet", "Lead magnet"], ["collection", "Collection"], ["product", "Product"], ["event", "Event"], ["other", "Other"]];

  function list() {
    var out = h("div"), status = K.select([["active", "Active"], ["archived", "Archived"]], "active", { onchange: load });
    function load() {
      Promise.all([api("GET", "/v1/resources?" + pq() + "&status=" + status.value + "&limit=200"), api("GET", "/v1/metrics?" + pq())]).then(function (r) {
        var perf = r[1].by_resource || {};
        function n(res, k) { return String((perf[res.slug] || {})[k] || 0); }
        out.replaceChildren(K.table([["Resource", function (res) { return h("a", { href: "/admin/resources/" + encodeURIComponent(res.slug), text: res.title }); }],
          ["Kind", function (res) { return res.kind.replace(/_/g, " ") + (res.gated ? " · asks for an e-mail" : ""); }],
          ["Clicks", function (res) { return n(res, "clicks"); }], ["Leads", function (res) { return n(res, "leads"); }],
          ["Signups", function (res) { return n(res, "signups"); }], ["Qualified", function (res) { return n(res, "qualified"); }]],
        r[0].data, status.value === "active" ? "No resources yet. Add one, or import a CSV." : "Nothing archived.", "Resources and how they perform"));
      }).catch(fail);
    }
    screen("Resources", [K.picker(), h("p", { class: "lead", text: "Guides, collections and lead magnets people can share, each with its own link and its own numbers." }),
      h("div", { class: "search" }, [field("Show", status), K.owner() ? h("a", { class: "button", href: FORM, text: "Add a resource" }) : null]),
      out, K.owner() ? importCard(load) : null]);
    load();
  }

  function importCard(reload) {
    var file = h("input", { type: "file", accept: ".csv,text/csv" });
    var text = h("textarea", { rows: "5", class: "code", placeholder: "slug,title,kind,url,collection,description,gated" });
    var faults = h("div", { role: "alert" });
    file.addEventListener("change", function () {
      var f = file.files[0];
      if (f) f.text().then(function (t) { text.value = t; });
    });
    return h("form", { class: "card", onsubmit: function (ev) {
      ev.preventDefault();
      faults.replaceChildren();
      if (!text.value.trim()) { toast("Choose a CSV file or paste its rows"); return; }
      api("POST", "/v1/resources/import?" + pq(), undefined, { raw: text.value, type: "text/csv" }).then(function (r) {
        toast("Imported: " + r.created + " new, " + r.updated + " updated");
        faults.replaceChildren(h("p", { class: "ok", text: r.created + " created, " + r.updated + " updated." }));
        text.value = ""; file.value = "";
        reload();
      }).catch(function (e) {
        var errs = (e.body && e.body.errors) || [];
        faults.replaceChildren(h("p", { class: "error", text: "Nothing was imported: " + e.message }),
          errs.length ? h("ul", { class: "flags" }, errs.map(function (x) { return h("li", { text: "Line " + x.line + (x.param ? " (" + x.param + ")" : "") + ": " + x.message }); })) : null);
      });
    } }, [h("h2", { text: "Import from CSV" }),
      h("p", { class: "hint", text: "Header row: slug,title,kind,url,collection,description,gated. Rows with a known slug update it. One bad row and nothing changes." }),
      field("CSV file", file), field("Or paste the rows", text), faults, h("button", { class: "button secondary", type: "submit", text: "Import" })]);
  }

  /* One resource's page, or the form for a new one when slug is null. */
  function one(slug) {
    var isNew = slug === null;
    (isNew ? Promise.resolve({ kind: "guide", gated: false, follow_ups: [] }) : api("GET", "/v1/resources/" + encodeURIComponent(slug) + "?" + pq())).then(function (r) {
      var ro = !K.owner();
      var title = input("text", r.title, { required: true, disabled: ro });
      var sl = input("text", r.slug, { required: true, pattern: "[a-z0-9-]{1,60}", disabled: ro || !isNew });
      var kind = K.select(KINDS, r.kind, { disabled: ro });
      var url = input("url", r.url, { required: true, disabled: ro });
      var coll = input("text", r.collection, { disabled: ro });
      var desc = h("textarea", { rows: "3", disabled: ro, value: r.description || "" });
      var gated = K.checkbox(r.gated, { disabled: ro });
      var msg = h("textarea", { rows: "3", disabled: ro, value: r.share_message || "", placeholder: "I found {{resource_title}} useful: {{resource_url}}" });
      if (isNew) title.addEventListener("input", function () { sl.value = title.value.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60); });
      var perf = h("div");
      var form = h("form", { class: "card", onsubmit: function (ev) {
        ev.preventDefault();
        var body = { title: title.value, kind: kind.value, url: url.value, collection: coll.value || null, description: desc.value || null,
          gated: gated.checked, share_message: msg.value || null };
        var req = isNew ? api("POST", "/v1/resources", Object.assign({ program: state.program, slug: sl.value }, body))
          : api("PATCH", "/v1/resources/" + encodeURIComponent(r.slug) + "?" + pq(), body);
        req.then(function (res) { toast(isNew ? "Resource added" : "Saved"); K.go("/admin/resources/" + encodeURIComponent(res.slug)); }).catch(fail);
      } }, [field("Title", title), field("Slug", sl, "Part of its link; it cannot change."), field("Kind", kind), field("Address", url),
        field("Collection", coll), field("Description", desc), check("Ask for an e-mail before opening it (a lead page)", gated),
        field("Share message", msg, "Placeholders as in messages, plus {{resource_title}} and {{resource_url}}."),
        ro ? null : h("button", { class: "button", type: "submit", text: isNew ? "Add the resource" : "Save" })]);
      var archive = !isNew && !ro && r.status === "active" ? h("button", { class: "button danger", text: "Archive", onclick: function () {
        if (!confirm("Archive " + r.title + "? Its links stop working.")) return;
        api("POST", "/v1/resources/" + encodeURIComponent(r.slug) + "/archive?" + pq(), {}).then(function () { toast("Archived"); K.go("/admin/resources"); }).catch(fail);
      } }) : null;
      screen(isNew ? "New resource" : r.title, [h("p", {}, [h("a", { href: "/admin/resources", text: "← All resources" })]), K.readOnlyNote(),
        isNew ? null : perf, form, archive ? h("div", { class: "actions" }, [archive]) : null]);
      if (!isNew) {
        api("GET", "/v1/metrics?" + pq()).then(function (m) {
          var x = (m.by_resource || {})[r.slug] || {};
          perf.replaceChildren(h("div", { class: "stats" }, [["Clicks", x.clicks], ["Leads", x.leads], ["Signups", x.signups], ["Qualified", x.qualified]].map(function (c) {
            return h("div", { class: "stat" }, [h("span", { class: "stat-n", text: String(c[1] || 0) }), h("span", { class: "stat-l", text: c[0] })]);
          })));
        }).catch(fail);
      }
    }).catch(fail);
  }

  K.screens.resources = function (slug) { return slug ? one(slug) : list(); };
  K.screens["new-resource"] = function () { return one(null); };
})();
