/*
 * Progressive enhancement for the sign-in pages. No dependencies.
 * Pages work without this file; it only:
 *  - adds the "js" class on <html> (reveals the .js-only controls);
 *  - wires password show/hide buttons:
 *      <button type="button" data-toggle-password="INPUT_ID"
 *              data-label-show="..." data-label-hide="..." aria-pressed="false">
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var buttons = document.querySelectorAll("button[data-toggle-password]");

  Array.prototype.forEach.call(buttons, function (button) {
    var input = document.getElementById(button.getAttribute("data-toggle-password"));
    if (!input) {
      return;
    }
    var labelShow = button.getAttribute("data-label-show") || button.textContent;
    var labelHide = button.getAttribute("data-label-hide") || labelShow;

    function render(visible) {
      input.type = visible ? "text" : "password";
      button.setAttribute("aria-pressed", visible ? "true" : "false");
      button.textContent = visible ? labelHide : labelShow;
    }

    render(false);

    button.addEventListener("click", function () {
      // Focus stays on the button so assistive technologies announce its new state.
      render(input.type === "password");
    });

    // Never submit (nor let the browser remember) the password as plain text.
    if (input.form) {
      input.form.addEventListener("submit", function () {
        render(false);
      });
    }
  });
})();
