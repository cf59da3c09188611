// Starts Swagger UI on /api/docs; kept out of the page so that no inline script is needed.
window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIStandalonePreset.slice(1)],
    plugins: [window.SwaggerUIBundle.plugins.DownloadUrl],
    validatorUrl: null,
    docExpansion: "list",
  });
});
