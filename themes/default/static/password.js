/*
 * Live password policy (issue #4), for password_fields.html. No dependencies.
 * Reads the policy from the container's data-policy-url (GET /password-policy) and:
 *  - ticks each rule of the checklist as it is met (class "is-met");
 *  - shows a strength estimate with the French/English labels of the policy;
 *  - generates a password that satisfies every rule (crypto.getRandomValues);
 *  - checks that the confirmation matches.
 * The estimate is deliberately simple (length, classes, the shipped common list); the server
 * is the authority and runs zxcvbn and the history check when the form is sent.
 * Without this file the page still works: two password fields and the rules as a list.
 */
(function () {
  "use strict";

  var container = document.querySelector("[data-password-policy]");
  if (!container || !window.fetch) {
    return;
  }
  var input = document.getElementById("new_password");
  var confirmInput = document.getElementById("confirm_password");
  var mismatch = document.querySelector("[data-password-mismatch]");
  var meter = container.querySelector("[data-strength-meter]");
  var meterLabel = container.querySelector("[data-strength-label]");
  var generate = container.querySelector("[data-generate-password]");
  var lang = container.getAttribute("data-lang") === "en" ? "en" : "fr";
  var personal = (container.getAttribute("data-personal") || "")
    .split(/[\s@]+/)
    .map(fold)
    .filter(function (p) { return p.length >= 3; });
  var policy = null;
  var common = {};

  var LOWER = "abcdefghijkmnopqrstuvwxyz";
  var UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
  var DIGITS = "23456789";
  var SYMBOLS = "!?-_@#%+=*";

  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function count(s, re) {
    var m = s.match(re);
    return m ? m.length : 0;
  }

  function containsPersonal(s) {
    var f = fold(s);
    return personal.some(function (p) { return f.indexOf(p) !== -1; });
  }

  /* 0 to 4, like zxcvbn's score: bits of a brute-force search, capped by obvious weaknesses. */
  function estimate(s) {
    if (!s) {
      return 0;
    }
    if (common[s.toLowerCase()]) {
      return 0;
    }
    var pool = 0;
    if (/\p{Ll}/u.test(s)) { pool += 26; }
    if (/\p{Lu}/u.test(s)) { pool += 26; }
    if (/[0-9]/.test(s)) { pool += 10; }
    if (/[^\p{L}\p{N}\s]/u.test(s)) { pool += 32; }
    var distinct = {};
    Array.from(s).forEach(function (c) { distinct[c] = true; });
    var length = Math.min(Array.from(s).length, Object.keys(distinct).length * 2);
    var bits = length * Math.log2(Math.max(pool, 2));
    var score = bits < 28 ? 0 : bits < 40 ? 1 : bits < 60 ? 2 : bits < 80 ? 3 : 4;
    return containsPersonal(s) ? Math.min(score, 1) : score;
  }

  function isMet(rule, s) {
    var n = rule.value || 0;
    switch (rule.rule) {
      case "min_length": return Array.from(s).length >= n;
      case "max_length": return s.length > 0 && Array.from(s).length <= n;
      case "lowercase": return count(s, /\p{Ll}/gu) >= n;
      case "uppercase": return count(s, /\p{Lu}/gu) >= n;
      case "digits": return count(s, /[0-9]/g) >= n;
      case "symbols": return count(s, /[^\p{L}\p{N}\s]/gu) >= n;
      case "no_personal_data": return s.length > 0 && !containsPersonal(s);
      case "not_common": return s.length > 0 && !common[s.toLowerCase()];
      case "strength": return estimate(s) >= n;
      default: return false; /* history: only the server knows */
    }
  }

  function update() {
    var s = input.value;
    if (policy) {
      policy.rules.forEach(function (rule) {
        var item = container.querySelector('[data-rule="' + rule.rule + '"]');
        if (item) {
          item.classList.toggle("is-met", isMet(rule, s));
        }
      });
      var score = estimate(s);
      if (meter) { meter.value = score; }
      if (meterLabel) { meterLabel.textContent = s ? policy.strength_labels[lang][score] : ""; }
    }
    checkConfirmation();
  }

  function checkConfirmation() {
    if (!confirmInput || !mismatch) {
      return;
    }
    var differs = confirmInput.value !== "" && confirmInput.value !== input.value;
    mismatch.hidden = !differs;
    confirmInput.setAttribute("aria-invalid", differs ? "true" : "false");
    confirmInput.setCustomValidity(differs ? mismatch.textContent : "");
  }

  function randomIndex(n) {
    var buf = new Uint32Array(1);
    var limit = Math.floor(0x100000000 / n) * n; /* no modulo bias */
    do {
      window.crypto.getRandomValues(buf);
    } while (buf[0] >= limit);
    return buf[0] % n;
  }

  function pick(alphabet, n, out) {
    for (var i = 0; i < n; i++) {
      out.push(alphabet.charAt(randomIndex(alphabet.length)));
    }
  }

  function candidate() {
    var p = policy;
    var length = Math.max(p.min_length, 16, p.min_lowercase + p.min_uppercase + p.min_digits + p.min_symbols);
    length = Math.min(length, p.max_length);
    var chars = [];
    pick(LOWER, p.min_lowercase, chars);
    pick(UPPER, p.min_uppercase, chars);
    pick(DIGITS, p.min_digits, chars);
    pick(SYMBOLS, Math.max(p.min_symbols, 1), chars);
    pick(LOWER + UPPER + DIGITS + SYMBOLS, Math.max(length - chars.length, 0), chars);
    for (var i = chars.length - 1; i > 0; i--) { /* Fisher-Yates */
      var j = randomIndex(i + 1);
      var t = chars[i]; chars[i] = chars[j]; chars[j] = t;
    }
    return chars.slice(0, p.max_length).join("");
  }

  function generatePassword() {
    if (!policy || !window.crypto || !window.crypto.getRandomValues) {
      return;
    }
    var s = candidate();
    for (var tries = 0; tries < 20; tries++) {
      var ok = policy.rules.every(function (r) { return r.rule === "history" || isMet(r, s); });
      if (ok) { break; }
      s = candidate();
    }
    input.value = s;
    if (confirmInput) { confirmInput.value = s; }
    /* Show it, so the person can note it down; the show/hide button of app.js hides it again. */
    var toggle = container.querySelector('[data-toggle-password="new_password"]');
    if (toggle && input.type === "password") {
      toggle.click();
    }
    update();
    input.focus();
  }

  fetch(container.getAttribute("data-policy-url"), { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (json) {
      if (!json) {
        return;
      }
      policy = json;
      (json.common || []).forEach(function (w) { common[w] = true; });
      update();
    })
    .catch(function () { /* the list stays as rendered; the server still checks */ });

  input.addEventListener("input", update);
  if (confirmInput) {
    confirmInput.addEventListener("input", checkConfirmation);
  }
  if (generate) {
    generate.addEventListener("click", generatePassword);
  }
})();
