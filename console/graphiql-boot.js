// Runs before GraphiQL's bundle: points Monaco at the workers the gateway serves (no CDN), and
// after the bundle has loaded, renders GraphiQL with the console's API key, if one is signed in,
// as the default Authorization header (read from session storage, never from the URL).
(function () {
  var config = JSON.parse(document.getElementById('graphiql-config').textContent);
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (_moduleId, label) {
      return config.workers[label] || config.workers.editorWorkerService;
    },
  };
  window.addEventListener('DOMContentLoaded', function () {
    var key = null;
    try {
      key = sessionStorage.getItem('vigil.apiKey');
    } catch (_) {}
    var headers = JSON.stringify({ authorization: 'Bearer ' + (key || '<your API key>') }, null, 2);
    var options = Object.assign({}, config.options, { headers: headers, shouldPersistHeaders: false });
    window.YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
  });
})();
