// The console's GraphQL client: urql over HTTP (uploads included) and graphql-ws for
// subscriptions, both carrying the session's bearer token.
import { Client, type CombinedError, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from "@urql/core";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { EXPIRED, session, signOut } from "./auth";

function authorization(): string {
  return session.value ? `Bearer ${session.value.token}` : "";
}

/** Codes from the `extensions.code` of a GraphQL error (README "Error codes"). */
export function errorCodes(error: CombinedError | undefined): string[] {
  return (error?.graphQLErrors ?? []).map((e) => String(e.extensions?.code ?? ""));
}

let socket: WsClient | null = null;

function webSocket(): WsClient {
  if (socket) return socket;
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  socket = createWsClient({
    url,
    lazy: true,
    connectionParams: () => ({ Authorization: authorization() }),
    retryAttempts: 5,
    shouldRetry: (event) => !(event instanceof CloseEvent && (event.code === 4401 || event.code === 4403)),
    on: {
      closed: (event) => {
        if (event instanceof CloseEvent && event.code === 4401) signOut(EXPIRED);
      },
    },
  });
  return socket;
}

/** A new socket for a new session (another token, another set of profiles). */
session.subscribe(() => {
  socket?.dispose();
  socket = null;
});

export function createClient(): Client {
  return new Client({
    url: "/graphql",
    requestPolicy: "cache-and-network",
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { Authorization: authorization() } }),
    exchanges: [
      mapExchange({
        onError(error) {
          if (errorCodes(error).includes("UNAUTHENTICATED")) signOut(EXPIRED);
        },
      }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || "" };
          return {
            subscribe(sink) {
              const unsubscribe = webSocket().subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}

export const client = createClient();
