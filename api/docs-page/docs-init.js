// Renders /openapi.json with Swagger UI (swagger-ui-dist, served by this process from node_modules).
// No validator badge: it would send the document to validator.swagger.io. "Try it out" sends
// requests to this origin only (the page's Content-Security-Policy allows nothing else); with API
// keys on, "Authorize" takes the key for those requests and keeps it only in this tab.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  defaultModelsExpandDepth: 0,
  displayRequestDuration: true,
});
