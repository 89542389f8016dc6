import { Provider } from "@urql/preact";
import { render } from "preact";
import { App } from "./App";
import { takeTokenFromAddress } from "./auth";
import { client } from "./client";
import { completeOidcSignIn } from "./oidc";
import "./styles.css";

takeTokenFromAddress();
void completeOidcSignIn().finally(() => {
  render(
    <Provider value={client}>
      <App />
    </Provider>,
    document.getElementById("app")!,
  );
});
