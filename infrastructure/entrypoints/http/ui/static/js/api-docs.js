// The interactive API reference: Swagger UI, shipped inside the package and served by this
// app like the rest of the screen, over the app's own OpenAPI document. Nothing is fetched
// from outside, so the reference works without internet and under the strict CSP.

const container = document.getElementById("swagger-ui");

window.SwaggerUIBundle({
  url: new URL("../openapi.json", document.baseURI).href,
  domNode: container,
  validatorUrl: null, // the default sends the document to an outside validator
  deepLinking: true,
  onComplete: () => {
    container.dataset.state = "ready";
  },
});
