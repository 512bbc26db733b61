/* Optional: applies the form's SHOW/HIDE/ENABLE/DISABLE rules while the person types.
   The server already rendered the right state; without this script nothing is lost.
   Conditions use a small part of JSON Schema (const, enum, type, not, anyOf, allOf, oneOf,
   minimum, maximum, minLength, maxLength); a rule using anything else is left as rendered. */
(function () {
  "use strict";
  var KNOWN = {
    "const": 1, "enum": 1, "type": 1, "not": 1, "anyOf": 1, "allOf": 1, "oneOf": 1,
    "minimum": 1, "maximum": 1, "minLength": 1, "maxLength": 1, "title": 1, "description": 1
  };
  var UNDEFINED = {};

  function Unsupported() {}

  function jsonType(v) {
    if (v === UNDEFINED) { return "undefined"; }
    if (v === null) { return "null"; }
    if (Array.isArray(v)) { return "array"; }
    if (typeof v === "number") { return Number.isInteger(v) ? "integer" : "number"; }
    return typeof v;
  }

  function equal(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function valid(v, s) {
    if (s === true) { return true; }
    if (s === false) { return false; }
    if (s === null || typeof s !== "object") { throw new Unsupported(); }
    var key, i, t, ok, count;
    for (key in s) {
      if (Object.prototype.hasOwnProperty.call(s, key) && !KNOWN[key]) { throw new Unsupported(); }
    }
    if ("const" in s && (v === UNDEFINED || !equal(v, s["const"]))) { return false; }
    if ("enum" in s) {
      ok = false;
      for (i = 0; i < s["enum"].length; i++) { if (v !== UNDEFINED && equal(v, s["enum"][i])) { ok = true; } }
      if (!ok) { return false; }
    }
    if ("type" in s) {
      t = jsonType(v);
      var types = Array.isArray(s.type) ? s.type : [s.type];
      ok = false;
      for (i = 0; i < types.length; i++) {
        if (types[i] === t || (types[i] === "number" && t === "integer")) { ok = true; }
      }
      if (!ok) { return false; }
    }
    if (typeof v === "number") {
      if ("minimum" in s && v < s.minimum) { return false; }
      if ("maximum" in s && v > s.maximum) { return false; }
    }
    if (typeof v === "string") {
      if ("minLength" in s && v.length < s.minLength) { return false; }
      if ("maxLength" in s && v.length > s.maxLength) { return false; }
    }
    if ("not" in s && valid(v, s.not)) { return false; }
    if ("allOf" in s) {
      for (i = 0; i < s.allOf.length; i++) { if (!valid(v, s.allOf[i])) { return false; } }
    }
    if ("anyOf" in s) {
      ok = false;
      for (i = 0; i < s.anyOf.length; i++) { if (valid(v, s.anyOf[i])) { ok = true; } }
      if (!ok) { return false; }
    }
    if ("oneOf" in s) {
      count = 0;
      for (i = 0; i < s.oneOf.length; i++) { if (valid(v, s.oneOf[i])) { count++; } }
      if (count !== 1) { return false; }
    }
    return true;
  }

  function coerce(el, raw) {
    var type = el.getAttribute("data-type");
    if (raw === "") { return UNDEFINED; }
    if (type === "integer" || type === "number") {
      var n = Number(raw);
      return isNaN(n) ? raw : n;
    }
    return raw;
  }

  function valueAt(form, pointer) {
    var els = form.querySelectorAll("[name]");
    var found = [], i, el;
    for (i = 0; i < els.length; i++) {
      if (els[i].getAttribute("name") === pointer) { found.push(els[i]); }
    }
    if (!found.length) { return UNDEFINED; }
    el = found[0];
    if (el.type === "checkbox" && el.getAttribute("data-type") === "array") {
      var out = [];
      for (i = 0; i < found.length; i++) { if (found[i].checked) { out.push(found[i].value); } }
      return out;
    }
    if (el.type === "checkbox") {
      for (i = 0; i < found.length; i++) {
        if (found[i].type === "hidden") { return true; }
      }
      return el.checked;
    }
    for (i = 0; i < found.length; i++) {
      if (found[i].type === "hidden" && found[i].value !== "") { return coerce(el, found[i].value); }
    }
    return coerce(el, el.value);
  }

  function apply(form) {
    var ruled = form.querySelectorAll("[data-rule]");
    for (var i = 0; i < ruled.length; i++) {
      var el = ruled[i], rule, holds;
      try {
        rule = JSON.parse(el.getAttribute("data-rule"));
        var value = valueAt(form, rule.scope);
        holds = (value === UNDEFINED && rule.failWhenUndefined) ? false : valid(value, rule.schema);
      } catch (e) {
        continue;
      }
      if (rule.effect === "SHOW" || rule.effect === "HIDE") {
        el.hidden = rule.effect === "SHOW" ? !holds : holds;
      } else if (rule.effect === "ENABLE" || rule.effect === "DISABLE") {
        var on = rule.effect === "ENABLE" ? holds : !holds;
        var inputs = el.querySelectorAll("input, select");
        for (var j = 0; j < inputs.length; j++) {
          var input = inputs[j];
          if (input.type === "hidden" || input.getAttribute("data-locked") || input.getAttribute("data-fixed")) { continue; }
          if (input.tagName === "SELECT" || input.type === "checkbox") {
            input.disabled = !on;
          } else {
            input.readOnly = !on;
          }
        }
      }
    }
  }

  var forms = document.querySelectorAll("form");
  for (var k = 0; k < forms.length; k++) {
    (function (form) {
      form.addEventListener("change", function () { apply(form); });
      form.addEventListener("input", function () { apply(form); });
      apply(form);
    })(forms[k]);
  }
})();
