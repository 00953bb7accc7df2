// The API's docs page (templates/api_docs.html): Swagger UI, from our own static files, set up from the page's JSON.
// No inline script, so that the site's Content-Security-Policy holds here too. "Try it out" sends the browser's
// session with the CSRF token, as htmx does on every other page; or a personal access token, under "Authorize".
(function () {
  const settings = JSON.parse(document.getElementById("swagger-settings").textContent);
  const csrfToken = document.body.dataset.csrfToken;
  settings.dom_id = "#swagger-ui";
  settings.presets = [SwaggerUIBundle.presets.apis];
  settings.requestInterceptor = function (request) {
    if (csrfToken) {
      request.headers["X-CSRFToken"] = csrfToken;
    }
    return request;
  };
  window.ui = SwaggerUIBundle(settings);
})();
