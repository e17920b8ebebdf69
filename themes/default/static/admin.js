/*
 * The administration console's one enhancement: "copy" buttons next to a secret shown once.
 *   <button type="button" class="js-only" data-copy-target="ELEMENT_ID"
 *           data-label-done="...">...</button>
 * Without JavaScript the secret stays selectable text (it is selected as a whole on click).
 */
(function () {
  "use strict";

  var buttons = document.querySelectorAll("button[data-copy-target]");

  Array.prototype.forEach.call(buttons, function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) {
      return;
    }
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = button.getAttribute("data-label-done") || button.textContent;
      });
    });
  });
})();
