/* kith dashboard: the program's health (CONTRACT 22) in words an owner reads at a glance, over
 * a window they choose (all time, the last 30 days, one month), with its weekly series drawn as
 * charts, and the forecast of the months ahead with its p10..p90 band and its assumptions
 * spelled out. Charts are inline SVG drawn here (no library, nothing from another host, no
 * inline style); each has a text alternative and the same figures as a table. Also holds the
 * small chart and number helpers the experiments screen shares (K.insight). */
(function () {
  "use strict";
  var K = window.kithAdmin, h = K.h, api = K.api, fail = K.fail, screen = K.screen, state = K.state;
  var NS = "http://www.w3.org/2000/svg";
  var NOT_YET = "not enough data yet";

  /* ---- numbers in words ---- */
  function isNum(x) { return typeof x === "number" && isFinite(x); }
  function pct(x) { return isNum(x) ? (Math.round(x * 1000) / 10) + "%" : NOT_YET; }
  function days(x) {
    if (!isNum(x)) return NOT_YET;
    var r = Math.round(x * 10) / 10;
    return r === 1 ? "1 day" : r + " days";
  }
  var program = K.program;
  function currency() { return program().currency || "USD"; }
  function money(minor, cur) { return isNum(minor) ? K.money(Math.round(minor), cur || currency()).trim() : NOT_YET; }
  /* An axis figure in whole currency units: 250, 1.2k. */
  function wholeUnits(minor) {
    var u = minor / 100;
    return u >= 10000 ? Math.round(u / 1000) + "k" : u >= 1000 ? (Math.round(u / 100) / 10) + "k" : String(Math.round(u));
  }
  function costOf(map) {
    var cur = currency();
    return map && isNum(map[cur]) ? map[cur] : 0;
  }

  function svg(tag, attrs, kids) {
    var el = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    (kids || []).forEach(function (c) { el.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return el;
  }

  /* A round top for an axis: 1, 2, 5 times a power of ten. */
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log(v) / Math.LN10)), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  /* A chart over time: series of values (lines, or bars when opts.bars) against labels, an
   * optional band (low/high arrays) drawn under the first line. A figure with the drawing (its
   * aria-label says what it shows) and the figures as a table in a disclosure. */
  function timeChart(opts) {
    var W = 420, H = 220, L = 46, R = 26, T = 12, B = 34;
    var n = opts.labels.length, all = [];
    opts.series.forEach(function (s) { all = all.concat(s.values); });
    if (opts.band) all = all.concat(opts.band.high);
    var top = niceMax(Math.max.apply(null, all.concat([0])));
    var pw = W - L - R, ph = H - T - B;
    function x(i) { return opts.bars ? L + pw * (i + 0.5) / n : L + (n < 2 ? pw / 2 : pw * i / (n - 1)); }
    function y(v) { return T + ph - ph * v / top; }
    var fmt = opts.format || String;
    var g = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "chart insight-chart", role: "img", "aria-label": opts.label });
    [0, 0.5, 1].forEach(function (f) {
      if (f === 0.5 && !opts.axisFormat && !opts.format && (top / 2) % 1 !== 0) return; /* counts: no half a person */
      g.appendChild(svg("line", { x1: L, x2: W - R, y1: y(top * f), y2: y(top * f), class: "grid" }));
      g.appendChild(svg("text", { x: L - 6, y: y(top * f) + 5, "text-anchor": "end", class: "axis" }, [(opts.axisFormat || fmt)(top * f)]));
    });
    var every = Math.max(1, Math.ceil(n / 4));
    opts.labels.forEach(function (lab, i) {
      if (i % every !== 0) return;
      var anchor = opts.bars || n < 2 ? "middle" : i === 0 ? "start" : i === n - 1 ? "end" : "middle";
      g.appendChild(svg("text", { x: x(i) + (anchor === "start" ? -4 : anchor === "end" ? 4 : 0), y: H - 10, "text-anchor": anchor, class: "axis" }, [lab]));
    });
    if (opts.band) {
      var up = opts.band.high.map(function (v, i) { return x(i) + "," + y(v); });
      var down = opts.band.low.map(function (v, i) { return x(i) + "," + y(v); }).reverse();
      g.appendChild(svg("polygon", { points: up.concat(down).join(" "), class: "band" }));
    }
    opts.series.forEach(function (s, si) {
      if (opts.bars) {
        var bw = pw / n * 0.8 / opts.series.length;
        s.values.forEach(function (v, i) {
          var bx = x(i) - pw / n * 0.4 + si * bw;
          g.appendChild(svg("rect", { x: bx, y: y(v), width: Math.max(bw - 2, 1), height: Math.max(y(0) - y(v), 0.5), class: "s" + si }));
        });
      } else {
        g.appendChild(svg("polyline", { points: s.values.map(function (v, i) { return x(i) + "," + y(v); }).join(" "), class: "line s" + si }));
        s.values.forEach(function (v, i) { g.appendChild(svg("circle", { cx: x(i), cy: y(v), r: 3.5, class: "dot s" + si })); });
      }
    });
    var legend = h("p", { class: "legend" }, opts.series.map(function (s, si) {
      return h("span", { class: "legend-item" }, [h("span", { class: "key key-s" + si, "aria-hidden": "true" }), " " + s.name]);
    }).concat(opts.band ? [h("span", { class: "legend-item" }, [h("span", { class: "key key-band", "aria-hidden": "true" }), " " + opts.band.name])] : []));
    var cols = [[opts.labelName || "Week", function (r) { return r.label; }]];
    opts.series.forEach(function (s, si) { cols.push([s.name, function (r) { return fmt(r.values[si]); }]); });
    if (opts.band) {
      cols.splice(1, 0, [opts.band.lowName, function (r) { return fmt(r.low); }]);
      cols.push([opts.band.highName, function (r) { return fmt(r.high); }]);
    }
    var rows = opts.labels.map(function (lab, i) {
      return { label: lab, values: opts.series.map(function (s) { return s.values[i]; }),
        low: opts.band ? opts.band.low[i] : null, high: opts.band ? opts.band.high[i] : null };
    });
    return h("figure", { class: "card insight-figure" }, [h("h3", { text: opts.title }), opts.hint ? h("p", { class: "hint", text: opts.hint }) : null,
      legend, g, h("details", { class: "as-table" }, [h("summary", { text: "These figures as a table" }), K.table(cols, rows, "Nothing yet.", opts.title)])]);
  }

  /* A card of related figures under one title: each a figure and a line saying what it means.
   * data-figure names a figure for the tests, which compare it with the API's answer. */
  function group(title, items, hint) {
    return h("section", { class: "stat insight", "aria-label": title }, [h("h3", { class: "insight-title", text: title })].concat(items.map(function (it) {
      return h("p", { class: "insight-item" }, [h("span", { class: "stat-n" + (it[1] === NOT_YET ? " not-yet" : ""), "data-figure": it[0], text: it[1] }),
        h("span", { class: "stat-l", text: it[2] })]);
    })).concat([hint ? h("p", { class: "hint", text: hint }) : null]));
  }

  function weekLabel(w) {
    /* "2026-W48" -> the Monday's date, the way a person names a week. */
    var m = /^(\d{4})-W(\d{2})$/.exec(w);
    if (!m) return w;
    var jan4 = Date.UTC(Number(m[1]), 0, 4), dow = (new Date(jan4).getUTCDay() + 6) % 7;
    var monday = new Date(jan4 - dow * 86400000 + (Number(m[2]) - 1) * 7 * 86400000);
    return monday.toLocaleDateString("en", { month: "short", day: "numeric", timeZone: "UTC" });
  }

  /* The server's now: the test clock when it runs, else this device's clock. */
  function serverNow() {
    return api("GET", "/v1/test/clock").then(function (c) { return new Date(c.now).getTime(); }, function () { return Date.now(); });
  }
  function iso(ms) { return new Date(ms).toISOString().slice(0, 19) + "Z"; }

  function tabs() {
    return K.tabs("Health", [["/admin/health", "Program health"], ["/admin/health/forecast", "Forecast"]]);
  }

  /* ---- health ---- */
  function windowFromQuery() {
    var q = new URLSearchParams(location.search);
    return { kind: q.get("window") || "all", month: q.get("month") || "" };
  }

  function health() {
    var win = windowFromQuery();
    var kind = K.select([["all", "All time"], ["30d", "Last 30 days"], ["month", "One month"]], win.kind);
    var month = K.input("month", win.month, { pattern: "[0-9]{4}-[0-9]{2}", placeholder: "2026-11" });
    var monthField = K.field("Month", month);
    monthField.hidden = win.kind !== "month";
    var out = h("div", { "aria-live": "polite", "aria-busy": "true" });
    var form = h("form", { class: "search insight-window", "aria-label": "Choose a period", onsubmit: function (ev) { ev.preventDefault(); apply(); } },
      [K.field("Period", kind), monthField, h("button", { type: "submit", class: "button secondary", text: "Show" })]);
    kind.addEventListener("change", function () { monthField.hidden = kind.value !== "month"; if (kind.value !== "month") apply(); });
    function apply() {
      var q = kind.value === "all" ? "" : "?window=" + kind.value + (kind.value === "month" && month.value ? "&month=" + month.value : "");
      history.replaceState(null, "", "/admin/health" + q);
      load();
    }
    screen("Program health", [K.picker(), tabs(), h("p", { class: "lead", text: "How your referral program is doing: who shares, how fast friends follow, what referred customers are worth, and what it costs." }), form, out]);
    function load() {
      out.setAttribute("aria-busy", "true");
      serverNow().then(function (now) {
        var q = K.pq(), what = "all time";
        if (kind.value === "30d") {
          q += "&from=" + iso(now - 30 * 86400000) + "&to=" + iso(now);
          what = "the last 30 days";
        } else if (kind.value === "month") {
          var m = /^(\d{4})-(\d{2})$/.exec(month.value) || /^(\d{4})-(\d{2})/.exec(iso(now));
          if (!month.value) month.value = m[1] + "-" + m[2];
          var from = Date.UTC(Number(m[1]), Number(m[2]) - 1, 1), to = Date.UTC(Number(m[1]), Number(m[2]), 1);
          q += "&from=" + iso(from) + "&to=" + iso(to);
          what = new Date(from).toLocaleDateString("en", { month: "long", year: "numeric", timeZone: "UTC" });
        }
        return api("GET", "/v1/metrics/health?" + q).then(function (m) { draw(m, what); });
      }).catch(function (e) { out.replaceChildren(h("p", { class: "error", text: e.message })); fail(e); })
        .then(function () { out.setAttribute("aria-busy", "false"); });
    }
    function draw(m, what) {
      var rvo = m.referred_vs_organic, cur = currency();
      var c = m.concentration, f = m.fatigue, fp = m.fraud_pressure;
      var spread = !isNum(c.gini) ? "" : c.gini < 0.3 ? "Referrals are spread evenly among the people who share." :
        c.gini < 0.6 ? "Some people bring noticeably more friends than others." : "A few people bring most of your friends.";
      var noValue = !(program().average_customer_value > 0);
      var sharing = h("div", { class: "stats insight-grid" }, [
        group("Activation", [["activation", pct(m.activation), "of people who joined shared their link within 30 days"]]),
        group("Time to first share", [["time_to_first_share_days", days(m.time_to_first_share_days), "from joining to sharing for the first time (the typical person)"]]),
        group("Viral cycle time", [["cycle_time_days", days(m.cycle_time_days), "from a friend joining to them bringing a friend of their own (typical)"]])]);
      var sides = [["referred", "Referred friends"], ["organic", "Everyone else"]];
      var rows = [["People who joined", function (s) { return String(s.customers); }, "customers"],
        ["Bought at least once", function (s) { return String(s.purchasers); }, "purchasers"],
        ["Share who bought", function (s) { return pct(s.purchase_rate); }, "purchase_rate"],
        ["Buyers who asked for a refund", function (s) { return pct(s.refund_rate); }, "refund_rate"],
        ["Revenue per person who joined", function (s) { return money(s.revenue_per_customer, cur); }, "revenue_per_customer"]];
      var compare = h("div", { class: "insight-compare" }, [h("table", {}, [
        h("caption", { text: "Referred friends and everyone else who joined in " + what }),
        h("thead", {}, [h("tr", {}, [h("th", { scope: "col", text: "" }, [h("span", { class: "sr-only", text: "Figure" })])].concat(sides.map(function (s) { return h("th", { scope: "col", text: s[1] }); })))]),
        h("tbody", {}, rows.map(function (r) {
          return h("tr", {}, [h("th", { scope: "row", text: r[0] })].concat(sides.map(function (s) {
            var v = r[1](rvo[s[0]]);
            return h("td", { "data-label": s[1], "data-figure": s[0] + "." + r[2], class: v === NOT_YET ? "not-yet" : null, text: v });
          })));
        }))])]);
      var risks = h("div", { class: "stats insight-grid" }, [
        group("Concentration", [["concentration.top_5pct_share", pct(c.top_5pct_share), "of friends who became customers came from your top 5% of sharers"],
          ["concentration.gini", isNum(c.gini) ? c.gini.toFixed(2) : NOT_YET, "Gini, from 0 (everyone brings the same) to 1 (one person brings all)"]], spread || null),
        group("Ask fatigue", [["fatigue.asks", String(f.asks), f.asks === 1 ? "invitation to share was sent" : "invitations to share were sent"],
          ["fatigue.answered_rate", pct(f.answered_rate), "of them were answered"],
          ["fatigue.opt_outs", String(f.opt_outs), f.opt_outs === 1 ? "person asked to hear from you less, or never" : "people asked to hear from you less, or never"]]),
        group("Fraud pressure", [["fraud_pressure.review_rate", pct(fp.review_rate), "of referrals looked unusual and went to review"],
          ["fraud_pressure.reject_rate", pct(fp.reject_rate), "of referrals were rejected"]]),
        group("Reward cost vs value", [["reward_cost_to_value", pct(m.reward_cost_to_value), "of what a customer is worth goes to rewards, per friend who became a customer"]],
          noValue ? "Set what a customer is worth in Settings to see this." : "A customer is worth " + money(program().average_customer_value, cur) + " to you (Settings).")]);
      var weeks = m.series || [];
      var labels = weeks.map(function (w) { return weekLabel(w.week); });
      var charts = weeks.length ? h("div", { class: "insight-charts" }, [
        timeChart({ title: "Friends joining and becoming customers", label: "Per week: friends who signed up and friends who became customers, " + weeks.length + " weeks from " + labels[0],
          labels: labels, bars: true, series: [{ name: "Signed up", values: weeks.map(function (w) { return w.signups; }) },
            { name: "Became customers", values: weeks.map(function (w) { return w.qualified; }) }] }),
        timeChart({ title: "Sharing", label: "Per week: people who shared and clicks on their links, " + weeks.length + " weeks from " + labels[0],
          labels: labels, series: [{ name: "Clicks on shared links", values: weeks.map(function (w) { return w.clicks; }) },
            { name: "People who shared", values: weeks.map(function (w) { return w.sharers; }) }] }),
        timeChart({ title: "Participants", label: "Participants at the end of each week, " + weeks.length + " weeks from " + labels[0],
          labels: labels, series: [{ name: "Participants", values: weeks.map(function (w) { return w.participants; }) }] }),
        timeChart({ title: "Reward cost (" + cur + ")", label: "Reward cost per week in " + cur + ", " + weeks.length + " weeks from " + labels[0],
          labels: labels, bars: true, format: function (v) { return money(v, cur); }, axisFormat: wholeUnits,
          hint: "Monetary rewards issued, in " + cur + ".", series: [{ name: "Rewards issued", values: weeks.map(function (w) { return costOf(w.rewards_cost); }) }] })])
        : h("p", { class: "empty", text: "No weeks in this window yet." });
      out.replaceChildren(h("h2", { text: "Sharing and spreading" }), sharing,
        h("h2", { text: "Referred friends compared with everyone else" }), compare,
        h("h2", { text: "Risks and costs" }), risks,
        h("h2", { text: "Week by week" }), charts);
    }
    load();
  }

  /* ---- forecast ---- */
  function forecast() {
    var months = K.select([["3", "3 months"], ["6", "6 months"], ["12", "12 months"]], new URLSearchParams(location.search).get("months") || "6");
    var out = h("div", { "aria-live": "polite" });
    months.addEventListener("change", function () { history.replaceState(null, "", "/admin/health/forecast?months=" + months.value); load(); });
    screen("Forecast", [K.picker(), tabs(), h("p", { class: "lead", text: "What the coming months may bring if the last weeks repeat themselves: a likely figure, and a range that holds eight times out of ten." }),
      h("div", { class: "search" }, [K.field("Months ahead", months)]), out]);
    function load() {
      api("GET", "/v1/forecast?" + K.pq() + "&months=" + months.value).then(draw, function (e) {
        if (e.status === 409) {
          out.replaceChildren(h("div", { class: "card notice-soft" }, [h("h2", { text: "Not enough history yet" }),
            h("p", { text: "The forecast learns from your last complete weeks and needs at least 4 of them. Come back once your program has run for a month." })]));
        } else { out.replaceChildren(h("p", { class: "error", text: e.message })); fail(e); }
      });
    }
    function draw(fc) {
      var a = fc.assumptions, cur = a.currency, ms = fc.months;
      var labels = ms.map(function (m) {
        var p = m.month.split("-");
        return new Date(Date.UTC(Number(p[0]), Number(p[1]) - 1, 1)).toLocaleDateString("en", { month: "short", year: "numeric", timeZone: "UTC" });
      });
      function band(key, title, what, fmt, axis) {
        return timeChart({ title: title, labelName: "Month", labels: labels, format: fmt, axisFormat: axis,
          label: what + " per month, likely figure with the range from the 10th to the 90th percentile, " + labels[0] + " to " + labels[labels.length - 1],
          series: [{ name: "Likely (p50)", values: ms.map(function (m) { return m[key].p50; }) }],
          band: { name: "8 in 10 chance to land in here (p10 to p90)", lowName: "Low (p10)", highName: "High (p90)",
            low: ms.map(function (m) { return m[key].p10; }), high: ms.map(function (m) { return m[key].p90; }) } });
      }
      var wm = a.weekly_means;
      var first = ms[0];
      out.replaceChildren(
        h("div", { class: "stats insight-grid" }, [
          group("Friends signing up in " + labels[0], [["forecast.referred_signups", String(first.referred_signups.p50), "most likely; between " + first.referred_signups.p10 + " and " + first.referred_signups.p90 + " eight times out of ten"]]),
          group("Becoming customers in " + labels[0], [["forecast.qualified", String(first.qualified.p50), "most likely; between " + first.qualified.p10 + " and " + first.qualified.p90 + " eight times out of ten"]]),
          group("Reward cost in " + labels[0], [["forecast.reward_cost", money(first.reward_cost.p50, cur), "most likely; between " + money(first.reward_cost.p10, cur) + " and " + money(first.reward_cost.p90, cur) + " eight times out of ten"]])]),
        h("div", { class: "insight-charts" }, [
          band("referred_signups", "Friends signing up", "Referred signups", String),
          band("qualified", "Friends becoming customers", "Qualified referrals", String),
          band("reward_cost", "Reward cost (" + cur + ")", "Reward cost in " + cur, function (v) { return money(v, cur); }, wholeUnits)]),
        h("section", { class: "card", "aria-labelledby": "assume-h" }, [h("h2", { id: "assume-h", text: "What this forecast assumes" }),
          h("ul", { class: "assumptions" }, [
            h("li", { text: "It learns from your last " + a.history_weeks + " complete weeks, from the week of " + weekLabel(a.history_from) + " to the week of " + weekLabel(a.history_to) + "." }),
            h("li", { text: "In those weeks, on average, " + (Math.round(wm.referred_signups * 10) / 10) + " friends signed up a week; " +
              (isNum(wm.qualification_rate) ? pct(wm.qualification_rate) + " of them became customers" : "none of them has become a customer yet") + "; " +
              (isNum(wm.cost_per_qualified) ? "each friend who became a customer cost " + money(wm.cost_per_qualified, cur) + " in rewards." : "rewards have cost nothing yet.") }),
            h("li", { text: "It takes those weeks to repeat: " + a.not_modelled.replace(/: the history weeks are taken to repeat$/, "") + " are not taken into account." }),
            h("li", { text: "The most likely figure is the middle of " + a.simulations.toLocaleString("en") + " simulated futures; eight in ten of them fall between the low and the high figure." }),
            h("li", { text: "Reward cost counts the money rewards (credits, cash, discounts, donations) issued, in " + cur + "." }),
            h("li", { text: "The forecast starts with " + a.months_start + ". The same data always gives the same forecast." })]),
          h("details", { class: "as-table" }, [h("summary", { text: "How it is computed" }),
            h("p", { text: "Method: " + a.method + "." }), h("p", { text: "Figures: " + a.quantiles + "." }), h("p", { class: "hint", text: "Seed " + a.seed + "." })])]));
    }
    load();
  }

  K.insight = { svg: svg, niceMax: niceMax, pct: pct, money: money, isNum: isNum, NOT_YET: NOT_YET, currency: currency, group: group, timeChart: timeChart };
  K.screens.health = function (sub) { return sub === "forecast" ? forecast() : health(); };
})();
