// bpcli's HTML report: step through the backward pass, and tooltips on the circuit.
// Plain ES2017, no libraries. Without this script the page shows every step as a list.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("nojs");
  root.classList.add("js");

  var data = JSON.parse(document.getElementById("bpcli-data").textContent);
  var steps = data.steps || [];
  var circuit = document.getElementById("circuit");
  var panel = document.getElementById("step-panel");
  var position = document.querySelector("#stepper .position");
  var items = document.querySelectorAll("#steps > li[data-step]");
  var tooltip = document.getElementById("tooltip");
  var current = -1;

  // Native tooltips come from each element's <title>; with the script, its own tooltip.
  var titled = circuit.querySelectorAll("[data-node], [data-edge], [data-trunk], .end");
  Array.prototype.forEach.call(titled, function (el) {
    var title = el.querySelector(":scope > title");
    if (title) {
      el.setAttribute("data-tip", title.textContent);
      title.parentNode.removeChild(title);
    }
  });

  // Each node's element, the pieces of the wires into each gate, each node's table row: found
  // once, so that a step touches only its own elements (a graph may have 100,000 nodes).
  var nodeOf = {};
  var wiresInto = {};
  var rowOf = {};
  Array.prototype.forEach.call(circuit.querySelectorAll("[data-node]"), function (el) {
    nodeOf[el.getAttribute("data-node")] = el;
  });
  Array.prototype.forEach.call(circuit.querySelectorAll("[data-to]"), function (el) {
    var to = el.getAttribute("data-to");
    (wiresInto[to] = wiresInto[to] || []).push(el);
  });
  Array.prototype.forEach.call(document.querySelectorAll("tr[data-row]"), function (el) {
    rowOf[el.getAttribute("data-row")] = el;
  });
  var lit = [];

  function show(k, still) {
    if (!steps.length) return;
    k = Math.max(0, Math.min(steps.length - 1, k));
    var id = String(steps[k].node);
    lit.forEach(function (el) { el.classList.remove("current"); });
    lit = [];
    if (nodeOf[id]) lit.push(nodeOf[id]);
    lit = lit.concat(wiresInto[id] || []);
    var item = items[k];
    lit.push(item);
    if (rowOf[id]) lit.push(rowOf[id]);
    lit.forEach(function (el) { el.classList.add("current"); });
    panel.innerHTML = item.querySelector(".step-body").innerHTML;
    panel.setAttribute("data-node", id);
    panel.setAttribute("data-step", String(k));
    root.setAttribute("data-step", String(k));
    document.body.setAttribute("data-step", String(k));
    if (position) {
      position.textContent = position.getAttribute("data-template")
        .replace("{k}", String(k + 1)).replace("{n}", String(steps.length));
    }
    document.getElementById("step-first").disabled = k === 0;
    document.getElementById("step-prev").disabled = k === 0;
    document.getElementById("step-next").disabled = k === steps.length - 1;
    document.getElementById("step-last").disabled = k === steps.length - 1;
    if (nodeOf[id] && !still) {
      var around = (wiresInto[id] || []).slice();
      (steps[k].inputs || []).forEach(function (edge) {
        if (nodeOf[String(edge.input)]) around.push(nodeOf[String(edge.input)]);
      });
      reveal(nodeOf[id], around);
    }
    current = k;
  }

  // Scroll the circuit (not the page) so that the current gate and what leads into it (its
  // input wires with their numbers, and its inputs) are in view, centred where they fit;
  // where they do not, as much of them as fits with the gate still in view.
  function reveal(el, around) {
    var gate = el.getBoundingClientRect();
    var all = { left: gate.left, top: gate.top, right: gate.right, bottom: gate.bottom };
    (around || []).forEach(function (other) {
      var box = other.getBoundingClientRect();
      if (!box.width && !box.height) return;
      all.left = Math.min(all.left, box.left);
      all.top = Math.min(all.top, box.top);
      all.right = Math.max(all.right, box.right);
      all.bottom = Math.max(all.bottom, box.bottom);
    });
    var frame = circuit.getBoundingClientRect();
    var margin = 12;
    // the part of the frame that shows the picture (not its scroll bars)
    var view = { left: frame.left + circuit.clientLeft, top: frame.top + circuit.clientTop };
    view.right = view.left + circuit.clientWidth;
    view.bottom = view.top + circuit.clientHeight;
    circuit.scrollLeft += shift(all.left, all.right, gate.left, gate.right, view.left, view.right, margin);
    circuit.scrollTop += shift(all.top, all.bottom, gate.top, gate.bottom, view.top, view.bottom, margin);
  }

  // How far to scroll along one axis: nothing if [lo, hi] is in view; else centre it if it
  // fits, or else show it from its start (the inputs' side) but keep the gate [g0, g1] in view.
  function shift(lo, hi, g0, g1, start, end, margin) {
    if (lo >= start && hi <= end) return 0;
    var room = end - start - 2 * margin;
    if (hi - lo <= room) return (lo + hi) / 2 - (start + end) / 2;
    var by = lo - (start + margin);
    if (g1 - by > end - margin) by = g1 - (end - margin);
    return by;
  }

  var moves = {
    "step-first": function () { return 0; },
    "step-prev": function () { return current - 1; },
    "step-next": function () { return current + 1; },
    "step-last": function () { return steps.length - 1; }
  };
  Object.keys(moves).forEach(function (name) {
    var button = document.getElementById(name);
    if (button) button.addEventListener("click", function () { show(moves[name]()); });
  });

  var keys = { ArrowRight: "step-next", ArrowLeft: "step-prev", Home: "step-first", End: "step-last" };
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var move = keys[event.key];
    if (!move || !steps.length) return;
    event.preventDefault();
    show(moves[move]());
  });

  // A click on a gate of the circuit, or on a step of the list, goes to that step.
  var stepOf = {};
  steps.forEach(function (step, k) { stepOf[String(step.node)] = k; });
  circuit.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-node]") : null;
    if (el && stepOf.hasOwnProperty(el.getAttribute("data-node"))) show(stepOf[el.getAttribute("data-node")]);
  });
  Array.prototype.forEach.call(items, function (item, k) {
    item.addEventListener("click", function (event) {
      if (event.target.closest("details")) return;
      show(k);
    });
  });

  // The tooltip: the hovered element's value, gradient and local gradient.
  function place(event) {
    var room = 14;
    var width = tooltip.offsetWidth;
    var height = tooltip.offsetHeight;
    var x = event.clientX + room;
    var y = event.clientY + room;
    if (x + width > window.innerWidth - 4) x = Math.max(4, event.clientX - room - width);
    if (y + height > window.innerHeight - 4) y = Math.max(4, event.clientY - room - height);
    tooltip.style.left = x + "px";
    tooltip.style.top = y + "px";
  }
  var hovered = null;
  circuit.addEventListener("mouseover", function (event) {
    var el = event.target.closest ? event.target.closest("[data-tip]") : null;
    if (!el || el === hovered) return;
    hovered = el;
    tooltip.textContent = el.getAttribute("data-tip");
    tooltip.hidden = false;
    place(event);
  });
  circuit.addEventListener("mousemove", function (event) {
    if (hovered) place(event);
  });
  circuit.addEventListener("mouseout", function (event) {
    var to = event.relatedTarget;
    if (hovered && (!to || !hovered.contains(to))) {
      hovered = null;
      tooltip.hidden = true;
    }
  });

  // The keyboard: Tab reaches every gate and leaf of the circuit, which shows its tooltip
  // beside it; Enter or Space goes to its step.
  Array.prototype.forEach.call(circuit.querySelectorAll("[data-node]"), function (el) {
    el.setAttribute("tabindex", "0");
  });
  Array.prototype.forEach.call(circuit.querySelectorAll("a"), function (el) {
    el.setAttribute("tabindex", "-1"); // Graphviz's links inside: one stop a node
  });
  circuit.addEventListener("focusin", function (event) {
    var el = event.target.closest ? event.target.closest("[data-tip]") : null;
    if (!el) return;
    hovered = el;
    tooltip.textContent = el.getAttribute("data-tip");
    tooltip.hidden = false;
    var box = el.getBoundingClientRect();
    place({ clientX: box.right, clientY: box.bottom });
  });
  circuit.addEventListener("focusout", function () {
    hovered = null;
    tooltip.hidden = true;
  });
  circuit.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    var el = event.target.closest ? event.target.closest("[data-node]") : null;
    if (!el || !stepOf.hasOwnProperty(el.getAttribute("data-node"))) return;
    event.preventDefault();
    show(stepOf[el.getAttribute("data-node")]);
  });

  // Printed: every array's values too.
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });

  // A picture a little wider than its frame is shrunk to fit (a much wider one scrolls).
  var picture = circuit.querySelector("svg");
  var natural = picture ? picture.width.baseVal.value : 0;
  function fit() {
    if (!picture || !natural) return;
    var room = circuit.clientWidth - 16;
    picture.classList.toggle("fit", natural > room && natural * 0.6 <= room);
  }
  fit();
  window.addEventListener("resize", fit);

  // A check's page opens on its first wrong mark (or at the picture's start, the inputs):
  // the marks are what it is about; stepping then follows the gates.
  var marked = circuit.querySelector("[data-first-wrong]");
  var checked = !!data.check;
  show(0, checked);
  if (checked && marked) reveal(marked, []);
})();
