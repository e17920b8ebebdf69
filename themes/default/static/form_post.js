/*
 * response_mode=form_post (OAuth 2.0 Form Post Response Mode): sends the response form to the
 * application at once. Without JavaScript the user presses the "Continue" button instead.
 */
(function () {
  "use strict";

  var form = document.getElementById("form-post");
  if (form) {
    form.submit();
  }
})();
