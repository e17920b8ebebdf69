/*
 * Progressive enhancement for the sign-in pages. No dependencies.
 * Pages work without this file; it only:
 *  - adds the "js" class on <html> (reveals the .js-only controls);
 *  - wires password show/hide buttons:
 *      <button type="button" data-toggle-password="INPUT_ID"
 *              data-label-show="..." data-label-hide="..." aria-pressed="false">
 *  - on the logged-out page, follows the "back to the application" link
 *    (<a data-continue-after-frames>) once the front-channel logout iframes
 *    have loaded (or after 5 seconds at most); without JavaScript the person
 *    follows it by hand.
 *  - wires copy buttons (<button data-copy="ELEMENT_ID" data-copied="...">): the element's
 *    text goes to the clipboard and #copy-status announces it; without JavaScript the
 *    text stays selectable and the button hidden (.js-only).
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

(function () {
  "use strict";

  var link = document.querySelector("a[data-continue-after-frames]");
  if (!link) {
    return;
  }
  var frames = document.querySelectorAll("iframe.frontchannel-logout");
  var waiting = frames.length;
  var gone = false;

  function go() {
    if (!gone) {
      gone = true;
      window.location.assign(link.href);
    }
  }

  Array.prototype.forEach.call(frames, function (frame) {
    frame.addEventListener("load", function () {
      waiting -= 1;
      if (waiting <= 0) {
        go();
      }
    });
  });
  window.setTimeout(go, 5000);
})();

(function () {
  "use strict";

  var buttons = document.querySelectorAll("button[data-copy]");
  var status = document.getElementById("copy-status");
  Array.prototype.forEach.call(buttons, function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) {
      button.hidden = true;
      return;
    }
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        if (status) {
          status.textContent = button.getAttribute("data-copied") || "";
        }
      });
    });
  });
})();
