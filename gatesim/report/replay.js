// gatesim replay: one day of one replication on the lane map (data: #replay-data, see
// gatesim/report/replay_data.py). Time t is minutes from the scenario's first midnight
// (Vietnamese time). Open with #t=MINUTES (from that midnight of the day) to start paused there.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("replay-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var svg = document.getElementById("map");
  var W = 1200, PAD = 60, UNIT = 1, H = 600;
  var DIRECTION = { export: "#E69F00", import: "#0072B2" };
  var CARGO = ["#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#999999"];
  var cargoColour = {};
  var nodes = D.nodes, stations = {}, dots = [];
  var t = D.t0, playing = false, colourBy = "direction", last = null;

  function el(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    (parent || svg).appendChild(e);
    return e;
  }

  function setScale() {
    var xs = nodes.map(function (n) { return n.x; }), ys = nodes.map(function (n) { return n.y; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    UNIT = (W - 2 * PAD) / Math.max(x1 - x0, 1);  // px per layout unit (km along the road)
    var yUnit = Math.min(UNIT, 560 / Math.max(y1 - y0, 1));  // both lanes on one screen
    H = Math.round((y1 - y0) * yUnit + 2 * PAD);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    nodes.forEach(function (n) { n.px = PAD + (n.x - x0) * UNIT; n.py = PAD + (y1 - n.y) * yUnit; });
    Object.keys(D.bands).forEach(function (lane) {
      var top = PAD + (y1 - D.bands[lane][1]) * yUnit - 30;
      el("text", { x: 8, y: Math.max(14, top), class: "lane" }).textContent = "lane " + lane;
    });
    el("line", { x1: PAD + -x0 * UNIT, x2: PAD + -x0 * UNIT, y1: 10, y2: H - 10, class: "border" });
  }

  function drawMap() {
    D.edges.forEach(function (e) {
      var a = nodes[e[0]], b = nodes[e[1]];
      el("line", { x1: a.px, y1: a.py, x2: b.px, y2: b.py, class: "road" });
    });
    nodes.forEach(function (n, i) {
      if (n.kind !== "station") {
        el("circle", { cx: n.px, cy: n.py, r: 3, class: "node " + n.kind });
        return;
      }
      var g = el("g", { class: "station", "data-node": n.id });
      var s = { node: n, g: g };
      if (n.capacity !== undefined) drawYard(s, n, g);
      s.ring = el("circle", { cx: n.px, cy: n.py, r: 7, class: "busy" }, g);
      s.count = el("text", { x: n.px, y: n.py - 11, class: "count" }, g);
      el("text", { x: n.px, y: n.py + 24, class: "label" }, g).textContent = n.label;
      el("title", {}, g).textContent = n.id + " (" + (n.servers || "?") + " servers)";
      stations[i] = s;
    });
    var dotLayer = el("g", { id: "trucks" });
    D.trucks.forEach(function (tr) {
      dots.push(el("circle", { r: 2.6, class: "truck", visibility: "hidden" }, dotLayer));
    });
  }

  function drawYard(s, n, g) {
    el("rect", { x: n.px - 14, y: n.py + 27, width: 28, height: 5, class: "yard" }, g);
    s.fill = el("rect", { x: n.px - 14, y: n.py + 27, width: 0, height: 5, class: "yard-fill" }, g);
    s.spill = el("line", { x1: n.px, y1: n.py, x2: n.px, y2: n.py, class: "spill" }, g);
    s.spillText = el("text", { x: n.px, y: n.py + 43, class: "spill-text" }, g);
  }

  function at(a, b, f) {
    return [a.px + (b.px - a.px) * f, a.py + (b.py - a.py) * f];
  }

  // Where truck tr is at time t: [x, y] on a road, "in" at a station, or null (not in the map).
  function place(tr, now) {
    var v = tr[6], first = v[0], lastVisit = v[v.length - 1];
    if (now < first[1]) {
      if (tr[4] < 0 || now < tr[2]) return null;
      return at(nodes[tr[4]], nodes[first[0]], (now - tr[2]) / Math.max(first[1] - tr[2], 1e-9));
    }
    for (var k = 0; k < v.length; k++) {
      if (now < v[k][3]) return now >= v[k][1] ? "in" : null;
      var next = v[k + 1];
      if (next && now < next[1]) {
        return at(nodes[v[k][0]], nodes[next[0]], (now - v[k][3]) / Math.max(next[1] - v[k][3], 1e-9));
      }
    }
    if (tr[5] < 0 || tr[3] === null || now >= tr[3]) return null;
    return at(nodes[lastVisit[0]], nodes[tr[5]], (now - lastVisit[3]) / Math.max(tr[3] - lastVisit[3], 1e-9));
  }

  function counts(now) {
    var c = {};
    D.trucks.forEach(function (tr) {
      tr[6].forEach(function (v) {
        if (now < v[1] || now >= v[3]) return;
        var s = c[v[0]] || (c[v[0]] = { waiting: 0, serving: 0 });
        if (now < v[2]) s.waiting++; else s.serving++;
      });
    });
    return c;
  }

  function occupancyColour(share) {
    var s = Math.max(0, Math.min(1, share));
    var hue = 120 - 120 * s;
    return "hsl(" + hue + ",70%,45%)";
  }

  function drawStations(c) {
    for (var i in stations) {
      var s = stations[i], n = s.node, k = c[i] || { waiting: 0, serving: 0 };
      s.ring.setAttribute("fill", occupancyColour(k.serving / (n.servers || 1)));
      s.ring.setAttribute("r", 6 + Math.min(14, Math.sqrt(k.waiting)));
      s.count.textContent = k.waiting > 0 ? String(k.waiting) : "";
      if (s.fill) drawYardLevel(s, n, k.waiting);
    }
  }

  function drawYardLevel(s, n, waiting) {
    var inYard = Math.min(waiting, n.capacity);
    s.fill.setAttribute("width", n.capacity > 0 ? 28 * inYard / n.capacity : 0);
    var km = Math.max(0, waiting - n.capacity) * n.km_per_truck;
    var away = n.side === "CN" ? 1 : -1;  // the approach road runs away from the border
    s.spill.setAttribute("x2", n.px + away * km * UNIT);
    s.spillText.textContent = km > 0 ? "spill-back " + km.toFixed(1) + " km" : "";
  }

  function truckColour(tr) {
    if (colourBy === "direction") return DIRECTION[tr[0]] || "#666";
    if (!(tr[1] in cargoColour)) cargoColour[tr[1]] = CARGO[Object.keys(cargoColour).length % CARGO.length];
    return cargoColour[tr[1]];
  }

  function render(now) {
    drawStations(counts(now));
    var moving = 0;
    D.trucks.forEach(function (tr, i) {
      var p = place(tr, now), dot = dots[i];
      if (!p || p === "in") { dot.setAttribute("visibility", "hidden"); return; }
      moving++;
      dot.setAttribute("cx", p[0].toFixed(1));
      dot.setAttribute("cy", p[1].toFixed(1));
      dot.setAttribute("fill", truckColour(tr));
      dot.setAttribute("visibility", "visible");
    });
    document.getElementById("moving").textContent = String(moving);
    drawClocks(now);
    document.getElementById("scrub").value = String(Math.round(now - D.t0));
  }

  function clock(now, offsetMin) {
    var base = D.start_date ? Date.parse(D.start_date + "T00:00:00Z") : 0;
    var d = new Date(base + (now + offsetMin) * 60000);
    var pad = function (x) { return (x < 10 ? "0" : "") + x; };
    var date = D.start_date ? d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " : "";
    return date + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  function drawClocks(now) {
    document.getElementById("clock-vn").textContent = clock(now, 0);
    document.getElementById("clock-cn").textContent = clock(now, 60);  // UTC+8 is an hour ahead
  }

  function tick(stamp) {
    if (!playing) { last = null; return; }
    if (last !== null) {
      var speed = Number(document.getElementById("speed").value);
      t = Math.min(D.t0 + 1440, t + speed * (stamp - last) / 1000);  // speed: minutes per second
      if (t >= D.t0 + 1440) { playing = false; setPlayLabel(); }
    }
    last = stamp;
    render(t);
    if (playing) window.requestAnimationFrame(tick);
  }

  function setPlayLabel() {
    document.getElementById("play").textContent = playing ? "❚❚ pause" : "▶ play";
  }

  function wireControls() {
    document.getElementById("play").addEventListener("click", function () {
      playing = !playing;
      if (playing && t >= D.t0 + 1440) t = D.t0;
      setPlayLabel();
      if (playing) window.requestAnimationFrame(tick);
    });
    document.getElementById("scrub").addEventListener("input", function (e) {
      t = D.t0 + Number(e.target.value);
      render(t);
    });
    document.getElementById("colour").addEventListener("change", function (e) {
      colourBy = e.target.value;
      render(t);
    });
  }

  setScale();
  drawMap();
  wireControls();
  var start = /#t=([0-9.]+)/.exec(window.location.hash);
  if (start) t = D.t0 + Math.min(1440, Number(start[1]));
  render(t);
  document.body.setAttribute("data-ready", "1");
})();
