// GraphiQL for Roster, from the server's own files (no CDN): the same set-up as
// Strawberry's page, with the console's token (if this tab is signed in) as the default
// Authorization header and as the WebSocket's connection_init payload.
(function () {
  "use strict";
  var EXAMPLE_QUERY =
    "# Roster's GraphQL API. Run a query with Ctrl-Enter.\n" +
    "# Requests carry the Authorization header below (your console session's token,\n" +
    "# when this tab is signed in); edit it in the Headers tab.\n\n" +
    "query Users {\n  users(first: 10) {\n    totalCount\n    edges { node { name email username status createdAt } }\n  }\n}\n";

  var parameters = {};
  location.search.slice(1).split("&").forEach(function (entry) {
    var eq = entry.indexOf("=");
    if (eq >= 0) parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(entry.slice(eq + 1));
  });
  function updateURL(data) {
    Object.assign(parameters, data);
    var search = Object.keys(parameters)
      .filter(function (key) { return Boolean(parameters[key]); })
      .map(function (key) { return encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]); })
      .join("&");
    history.replaceState(null, "", "?" + search);
  }

  var token = null;
  try { token = sessionStorage.getItem("roster.token"); } catch (e) { token = null; }
  var authorization = token ? { Authorization: "Bearer " + token } : {};
  var fetchURL = location.origin + location.pathname;
  var subscriptionUrl = (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + location.pathname;

  var fetcher = GraphiQL.createFetcher({
    url: fetchURL,
    subscriptionUrl: subscriptionUrl,
    wsConnectionParams: authorization,
  });

  function RosterGraphiQL() {
    var state = React.useState(parameters.q || EXAMPLE_QUERY);
    var variables = React.useState(parameters.variables);
    var headers = React.useState(parameters.headers || JSON.stringify(authorization, null, 2));
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      query: state[0],
      variables: variables[0],
      headers: headers[0],
      onEditQuery: function (q) { state[1](q); updateURL({ q: q }); },
      onEditVariables: function (v) { variables[1](v); updateURL({ variables: v }); },
      onEditHeaders: function (h) { headers[1](h); },
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(RosterGraphiQL));
})();
