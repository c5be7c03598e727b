// Zoom and hover for the report's time-series charts. The page works without this script:
// the charts are static SVG whose marks carry <title> hover text. With it, over a chart marked
// class="zoom": drag across to zoom the x axis, Ctrl + wheel (or pinch) zooms around the
// pointer, Shift + wheel pans, double-click resets; hovering shows the nearest mark's text
// (its date or local time and value) in a tooltip. Inline, no network: the page's
// Content-Security-Policy admits exactly this script by its hash.
(function () {
  "use strict";
  var NS = null; // the SVG namespace, read from the page's own charts (no URL in this file)
  var DAY_MS = 86400000;
  var EPOCH = 719163; // Python's date.toordinal() of 1970-01-01: charts put dates at ordinals
  var MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");
  var DAYS = "Sun Mon Tue Wed Thu Fri Sat".split(" ");
  var MIN_SPAN = { date: 3, clock: 0.5 }; // the narrowest view: 3 days, half an hour
  var tip = null;

  function nums(el, name) {
    return el.getAttribute(name).split(" ").map(Number);
  }
  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }
  function utc(ordinal) {
    return new Date((ordinal - EPOCH) * DAY_MS);
  }
  function ordinal(year, month) {
    return Date.UTC(year, month, 1) / DAY_MS + EPOCH;
  }
  function clock(hours) {
    var m = (((Math.round(hours * 60) % 1440) + 1440) % 1440);
    return two(Math.floor(m / 60)) + ":" + two(m % 60);
  }

  // Tick positions and labels for the visible range, like the static charts' own.
  function dateTicks(a, b) {
    var out = [], span = b - a, first = Math.ceil(a), v, d;
    if (span <= 16) {
      for (v = first; v <= b; v += span > 8 ? 2 : 1) {
        d = utc(v);
        out.push([v, d.getUTCDate() + " " + MONTHS[d.getUTCMonth()]]);
      }
      return out;
    }
    if (span <= 120) {
      var step = span <= 60 ? 7 : 14;
      for (v = first + ((8 - (first % 7)) % 7); v <= b; v += step) { // ordinal % 7 == 1: Monday
        d = utc(v);
        out.push([v, d.getUTCDate() + " " + MONTHS[d.getUTCMonth()]]);
      }
      return out;
    }
    var every = span <= 200 ? 1 : span <= 800 ? 3 : 12;
    d = utc(first);
    for (var y = d.getUTCFullYear(), m = d.getUTCMonth(); ordinal(y, m) <= b; m++) {
      if (m === 12) { y++; m = 0; }
      v = ordinal(y, m);
      if (v < a || m % every) continue;
      out.push([v, every === 12 ? "" + y : m === 0 ? MONTHS[m] + " " + y : MONTHS[m]]);
    }
    return out;
  }
  function clockTicks(a, b) {
    var steps = [0.25, 0.5, 1, 2, 3, 6], step = 6, out = [];
    for (var i = 0; i < steps.length; i++) {
      if ((b - a) / steps[i] <= 8) { step = steps[i]; break; }
    }
    for (var v = Math.ceil(a / step - 1e-9) * step; v <= b + 1e-9; v += step) {
      out.push([v, clock(v)]);
    }
    return out;
  }

  function Chart(svg) {
    this.svg = svg;
    this.kind = svg.getAttribute("data-zoom");
    var x = nums(svg, "data-x"), px = nums(svg, "data-px"), py = nums(svg, "data-py");
    this.x0 = x[0]; this.x1 = x[1]; this.a = x[0]; this.b = x[1];
    this.left = px[0]; this.right = px[1]; this.top = py[0]; this.bottom = py[1];
    this.g = svg.querySelector("g.zg");
    this.xt = svg.querySelector("g.xt");
    this.marks = null;
    this.k = 1; this.t = 0;
    var heat = this.g.querySelector("g.heat"); // a heat map: one value per cell, as text
    if (heat) {
      var h = nums(heat, "data-heat");
      this.heat = { x0: h[0], step: h[1], cols: h[2], rows: h[3], el: heat,
        what: heat.getAttribute("data-what"), unit: heat.getAttribute("data-unit") };
    }
  }
  Chart.prototype.value = function (px) { // a viewBox x to the data value shown there
    return this.a + (px - this.left) / (this.right - this.left) * (this.b - this.a);
  };
  Chart.prototype.view = function (a, b) {
    var min = MIN_SPAN[this.kind] || 0;
    if (b - a < min) { var mid = (a + b) / 2; a = mid - min / 2; b = mid + min / 2; }
    if (b - a >= this.x1 - this.x0) { a = this.x0; b = this.x1; }
    if (a < this.x0) { b += this.x0 - a; a = this.x0; }
    if (b > this.x1) { a -= b - this.x1; b = this.x1; }
    this.a = a; this.b = b;
    var w = this.right - this.left;
    // Original pixel p of value v is left + (v - x0) / (x1 - x0) * w; it must land at
    // left + (v - a) / (b - a) * w, an affine map p -> k p + t applied to the marks group.
    this.k = (this.x1 - this.x0) / (b - a);
    this.t = this.left + (this.x0 - a) * w / (b - a) - this.left * this.k;
    this.g.setAttribute("transform", this.k === 1 ? "" : "matrix(" + this.k + " 0 0 1 " + this.t + " 0)");
    var dots = this.g.getElementsByTagName("circle"), inv = 1 / this.k;
    for (var i = 0; i < dots.length; i++) { // keep dots round: undo the x scale around each
      var cx = +dots[i].getAttribute("cx");
      dots[i].setAttribute("transform", this.k === 1 ? "" : "matrix(" + inv + " 0 0 1 " + cx * (1 - inv) + " 0)");
    }
    this.ticks();
    this.svg.setAttribute("data-view", a + " " + b);
  };
  Chart.prototype.ticks = function () {
    var ticks = this.kind === "date" ? dateTicks(this.a, this.b) : clockTicks(this.a, this.b);
    var w = this.right - this.left, html = "";
    for (var i = 0; i < ticks.length; i++) {
      var x = (this.left + (ticks[i][0] - this.a) / (this.b - this.a) * w).toFixed(1);
      html += '<path class="axis" d="M' + x + "," + this.bottom + 'v4"/><text class="tick" x="' + x +
        '" y="' + (this.bottom + 16) + '" text-anchor="middle">' + ticks[i][1] + "</text>";
    }
    this.xt.innerHTML = html;
  };
  // Hover text moves from each mark's <title> (the browser's own slow tooltip) to ours.
  Chart.prototype.collect = function () {
    if (this.marks) return;
    this.marks = [];
    if (this.heat) { // its colours' <title>s would pop up over ours
      var paths = this.g.querySelectorAll("path > title");
      for (var n = paths.length - 1; n >= 0; n--) paths[n].parentNode.removeChild(paths[n]);
      this.heat.v = this.heat.el.getAttribute("data-v").split(",");
    }
    var els = this.g.querySelectorAll("circle, rect");
    for (var i = 0; i < els.length; i++) {
      var el = els[i], title = el.querySelector("title");
      if (!title) continue;
      el.fvTip = title.textContent;
      el.removeChild(title);
      if (el.getAttribute("class") && el.getAttribute("class").indexOf("band") >= 0) continue;
      var x = el.tagName === "circle" ? +el.getAttribute("cx")
        : +el.getAttribute("x") + el.getAttribute("width") / 2;
      this.marks.push({ x: x, text: el.fvTip, el: el });
    }
    var lines = this.g.querySelectorAll("path[data-tip]"); // long daily series: no dots
    for (i = 0; i < lines.length; i++) {
      var xs = lines[i].getAttribute("data-tx").split(" ");
      var tips = lines[i].getAttribute("data-tip").split("|");
      for (var j = 0; j < xs.length; j++) this.marks.push({ x: +xs[j], text: tips[j], el: null });
    }
    this.marks.sort(function (p, q) { return p.x - q.x; });
  };
  Chart.prototype.nearest = function (px) { // the mark closest in x to viewBox x px
    var m = this.marks, lo = 0, hi = m.length - 1, at = (px - this.t) / this.k;
    if (!m.length) return null;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (m[mid].x < at) lo = mid + 1; else hi = mid;
    }
    if (lo > 0 && at - m[lo - 1].x < m[lo].x - at) lo--;
    return Math.abs(m[lo].x - at) * this.k <= 24 ? m[lo] : null;
  };

  function point(svg, e) {
    var p = svg.createSVGPoint();
    p.x = e.clientX; p.y = e.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }
  function show(text, e) {
    tip.textContent = text;
    tip.hidden = false;
    var x = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 4);
    var y = e.clientY + 18 + tip.offsetHeight > window.innerHeight ? e.clientY - tip.offsetHeight - 10 : e.clientY + 18;
    tip.style.left = Math.max(4, x) + "px";
    tip.style.top = y + "px";
  }
  function highlight(c, el) { // show the hovered mark (hover dots are invisible until then)
    if (c.on === el) return;
    if (c.on) c.on.classList.remove("on");
    if (el) el.classList.add("on");
    c.on = el;
  }
  function hide(c) {
    tip.hidden = true;
    if (c.guide) c.guide.setAttribute("d", "");
    highlight(c, null);
  }

  // The heat-map cell under the pointer: its period (a day, or the week it starts) and hour.
  function cellText(c, p) {
    var h = c.heat, at = (p.x - c.t) / c.k, x = c.x0 + (at - c.left) / (c.right - c.left) * (c.x1 - c.x0);
    var col = Math.floor((x - h.x0) / h.step), row = Math.floor((p.y - c.top) / (c.bottom - c.top) * h.rows);
    if (col < 0 || col >= h.cols || row < 0 || row >= h.rows) return null;
    var v = h.v[col * h.rows + row];
    if (!v) return null;
    var d = utc(h.x0 + col * h.step);
    var day = DAYS[d.getUTCDay()] + " " + two(d.getUTCDate()) + " " + MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear();
    return (h.what ? h.what + " " : "") + day + ", " + two(row) + ":00–" + two(row + 1) + ":00: " + v + " " + h.unit;
  }

  function hover(c, e, p) {
    c.collect();
    if (c.heat) {
      var cell = p.x < c.left || p.x > c.right ? null : cellText(c, p);
      if (cell) show(cell, e); else hide(c);
      return;
    }
    // A cell or bar under the pointer speaks for itself; else the nearest dot or bar in x;
    // a shaded band (sleep, workout) only where no mark is near.
    var hit = e.target && e.target.fvTip !== undefined && c.g.contains(e.target) ? e.target : null;
    var band = hit && (hit.getAttribute("class") || "").indexOf("band") >= 0 ? hit : null;
    if (band) hit = null;
    var mark = hit ? null : c.nearest(p.x);
    if (!hit && !mark) hit = band;
    var text = hit ? hit.fvTip : mark && mark.text;
    if (!text || p.x < c.left || p.x > c.right) { hide(c); return; }
    show(text, e);
    highlight(c, hit || mark.el);
    if (!hit) {
      if (!c.guide) {
        c.guide = document.createElementNS(NS, "path");
        c.guide.setAttribute("class", "guide");
        c.svg.appendChild(c.guide);
      }
      c.guide.setAttribute("d", "M" + (mark.x * c.k + c.t).toFixed(1) + "," + c.top + "V" + c.bottom);
    } else if (c.guide) {
      c.guide.setAttribute("d", "");
    }
  }

  function attach(c) {
    var svg = c.svg, drag = null;
    svg.addEventListener("pointerdown", function (e) {
      var p = point(svg, e);
      if (e.button !== 0 || p.x < c.left || p.x > c.right || p.y < c.top || p.y > c.bottom) return;
      drag = { x: p.x, moved: false, box: document.createElementNS(NS, "rect") };
      drag.box.setAttribute("class", "sel");
      drag.box.setAttribute("y", c.top);
      drag.box.setAttribute("height", c.bottom - c.top);
      svg.setPointerCapture(e.pointerId);
    });
    svg.addEventListener("pointermove", function (e) {
      var p = point(svg, e);
      if (!drag) { hover(c, e, p); return; }
      var x = Math.max(c.left, Math.min(c.right, p.x));
      if (!drag.moved && Math.abs(x - drag.x) > 4) { drag.moved = true; svg.appendChild(drag.box); hide(c); }
      drag.box.setAttribute("x", Math.min(x, drag.x));
      drag.box.setAttribute("width", Math.abs(x - drag.x));
    });
    svg.addEventListener("pointerup", function (e) {
      if (!drag) return;
      var p = point(svg, e), d = drag;
      drag = null;
      if (d.moved) {
        svg.removeChild(d.box);
        var x = Math.max(c.left, Math.min(c.right, p.x));
        c.view(c.value(Math.min(x, d.x)), c.value(Math.max(x, d.x)));
      } else {
        hover(c, e, p); // a tap on a phone shows the tooltip
      }
    });
    svg.addEventListener("pointerleave", function () { if (!drag) hide(c); });
    svg.addEventListener("dblclick", function () { c.view(c.x0, c.x1); hide(c); });
    svg.addEventListener("wheel", function (e) {
      var p = point(svg, e), span = c.b - c.a;
      if (e.ctrlKey || e.metaKey) { // zoom around the pointer (a trackpad pinch sets ctrlKey)
        var at = c.value(p.x), f = Math.exp(Math.max(-1, Math.min(1, e.deltaY / 300)));
        c.view(at - (at - c.a) * f, at + (c.b - at) * f);
      } else if ((e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) && span < c.x1 - c.x0) {
        var shift = (e.shiftKey ? e.deltaY || e.deltaX : e.deltaX) / (c.right - c.left) * span;
        c.view(c.a + shift, c.b + shift);
      } else {
        return; // plain scrolling scrolls the page
      }
      e.preventDefault();
      hide(c);
    }, { passive: false });
  }

  function init() {
    var svgs = document.querySelectorAll("svg.zoom");
    if (!svgs.length) return;
    NS = svgs[0].namespaceURI;
    tip = document.createElement("div");
    tip.className = "tip";
    tip.hidden = true;
    document.body.appendChild(tip);
    for (var i = 0; i < svgs.length; i++) attach(new Chart(svgs[i]));
    var hint = document.createElement("p");
    hint.className = "note";
    hint.textContent = "Charts over time: drag across one to zoom in, Ctrl + wheel to zoom, " +
      "Shift + wheel to pan, double-click to reset; hover (or tap) for values.";
    document.querySelector("header").appendChild(hint);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
