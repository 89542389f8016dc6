// A small router over the History API: the console's paths are real URLs the server
// answers with the console (so a batch's URL can be bookmarked and reopened).
import type { AnchorHTMLAttributes, ComponentChildren } from "preact";
import { signal } from "@preact/signals";

export const location$ = signal(currentLocation());

function currentLocation(): { path: string; query: URLSearchParams } {
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

addEventListener("popstate", () => {
  location$.value = currentLocation();
});

export function navigate(to: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  location$.value = currentLocation();
  // A new screen: move focus to its main heading for screen readers and keyboards.
  queueMicrotask(() => document.querySelector<HTMLElement>("main h1")?.focus());
}

/** Updates the query string of the current path (filters, search) without a new entry. */
export function setQuery(values: Record<string, string | null>): void {
  const query = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === "") query.delete(key);
    else query.set(key, value);
  }
  const search = query.toString();
  history.replaceState(null, "", location.pathname + (search ? "?" + search : ""));
  location$.value = currentLocation();
}

/** Matches `/users/:id` against a path: the named parts, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/");
  const have = path.replace(/\/+$/, "").split("/");
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":")) params[want[i].slice(1)] = decodeURIComponent(have[i]);
    else if (want[i] !== have[i]) return null;
  }
  return params;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; children?: ComponentChildren };

export function Link({ href, children, ...rest }: LinkProps) {
  return (
    <a
      {...rest}
      href={href}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
