/*
 * Password fields (issues #4 and #13), for password_fields.html. No dependencies.
 * One judge (decision 0018): this file estimates nothing. What is typed goes, debounced
 * (250 ms), to POST /password/check (data-check-url) with the form's CSRF token, and the
 * server's answer — the same account::policy::evaluate the submission runs — drives:
 *  - the checklist (class "is-met" on each rule line the server says is met; the history line
 *    only the submission checks);
 *  - the strength meter and its label (zxcvbn's score 0-4);
 *  - zxcvbn's advice, in the page's language, when the strength rule fails.
 * Also: the server's errors after a refused submission (#password-errors) go as soon as the
 * field changes; a generator (crypto.getRandomValues, the policy from data-policy-url); the
 * confirmation check. Without this file: the rules as a list and the server's verdict after
 * submit.
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
  var advice = container.querySelector("[data-password-advice]");
  var generate = container.querySelector("[data-generate-password]");
  var lang = container.getAttribute("data-lang") === "en" ? "en" : "fr";
  var checkUrl = container.getAttribute("data-check-url");
  var checkForm = container.getAttribute("data-check-form");
  var form = input ? input.form : null;
  var policy = null;
  var timer = null;
  var asked = 0; /* number of the latest request: older answers are dropped */

  var LOWER = "abcdefghijkmnopqrstuvwxyz";
  var UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
  var DIGITS = "23456789";
  var SYMBOLS = "!?-_@#%+=*";

  function formValue(name) {
    var field = form ? form.elements.namedItem(name) : null;
    return field && field.value ? field.value : "";
  }

  function showAdvice(lines) {
    if (!advice) {
      return;
    }
    var list = advice.querySelector("ul");
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    lines.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
    advice.hidden = lines.length === 0;
  }

  function reset() {
    container.querySelectorAll("[data-rule]").forEach(function (item) {
      item.classList.remove("is-met");
    });
    if (meter) { meter.value = 0; }
    if (meterLabel) { meterLabel.textContent = ""; }
    container.removeAttribute("data-acceptable");
    showAdvice([]);
  }

  function show(verdict) {
    verdict.rules.forEach(function (rule) {
      var item = container.querySelector('[data-rule="' + rule.rule + '"]');
      if (item) {
        item.classList.toggle("is-met", rule.met === true);
      }
    });
    if (meter) { meter.value = verdict.score; }
    if (meterLabel) { meterLabel.textContent = verdict.strength_label; }
    container.setAttribute("data-acceptable", verdict.acceptable ? "true" : "false");
    showAdvice(verdict.advice || []);
  }

  function ask() {
    var password = input.value;
    var number = ++asked;
    if (!password) {
      reset();
      return;
    }
    var body = {
      form: checkForm,
      csrf: formValue("csrf"),
      token: formValue("token"),
      password: password,
      lang: lang
    };
    fetch(checkUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (verdict) {
        if (verdict && number === asked) {
          show(verdict);
        }
      })
      .catch(function () { /* the server still judges the submission */ });
  }

  /* The server's refusal is about the password that was sent; once the field changes it no
     longer describes what is typed (issue #13, item 4). */
  function clearServerErrors() {
    var errors = document.getElementById("password-errors");
    if (!errors) {
      return;
    }
    errors.parentNode.removeChild(errors);
    input.removeAttribute("aria-invalid");
    var described = (input.getAttribute("aria-describedby") || "").split(/\s+/)
      .filter(function (id) { return id && id !== "password-errors"; });
    input.setAttribute("aria-describedby", described.join(" "));
  }

  function changed() {
    clearServerErrors();
    if (timer) {
      window.clearTimeout(timer);
    }
    timer = window.setTimeout(ask, 250);
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

  /* Random characters meeting every count of the policy; the server judges it like any other. */
  function candidate() {
    var p = policy;
    var length = Math.max(p.min_length, 16, p.min_lowercase + p.min_uppercase + p.min_digits + p.min_symbols);
    length = Math.min(length, p.max_length);
    var chars = [];
    pick(LOWER, Math.max(p.min_lowercase, 1), chars);
    pick(UPPER, Math.max(p.min_uppercase, 1), chars);
    pick(DIGITS, Math.max(p.min_digits, 1), chars);
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
    input.value = s;
    if (confirmInput) { confirmInput.value = s; }
    /* Show it, so the person can note it down; the show/hide button of app.js hides it again. */
    var toggle = container.querySelector('[data-toggle-password="new_password"]');
    if (toggle && input.type === "password") {
      toggle.click();
    }
    changed();
    input.focus();
  }

  fetch(container.getAttribute("data-policy-url"), { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (json) { policy = json; })
    .catch(function () { /* no generator; the rest works */ });

  input.addEventListener("input", changed);
  if (form) {
    /* "Réinitialiser" (a reset button, Nouvelle-Aquitaine): the fields are emptied after the
       event, so the meter, the rules and the advice follow once they are. */
    form.addEventListener("reset", function () {
      window.setTimeout(function () {
        if (timer) {
          window.clearTimeout(timer);
          timer = null;
        }
        asked += 1;
        clearServerErrors();
        reset();
        checkConfirmation();
        if (input.value) { ask(); }
      }, 0);
    });
  }
  if (confirmInput) {
    confirmInput.addEventListener("input", checkConfirmation);
  }
  if (generate) {
    generate.addEventListener("click", generatePassword);
  }
  if (input.value) {
    ask();
  }
})();
