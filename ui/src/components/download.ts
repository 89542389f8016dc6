// Downloads a file from a route beside /graphql that wants the bearer token (web/csv_files.py
// reads the Authorization header), which a plain link cannot send: the file is fetched
// with the token and saved under the name the server gives.
import { session } from "../auth";

/** What to tell the person for each refusal status, when the server refuses the file. */
export type Refusals = Record<number, string>;

/** Saves the file at `url`; resolves to a problem to show, or null once it is saved. */
export async function download(url: string, fallbackName: string, refusals: Refusals, what: string): Promise<string | null> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Authorization: session.value ? `Bearer ${session.value.token}` : "" },
    });
  } catch {
    return `The ${what} could not be downloaded: the server could not be reached.`;
  }
  if (!response.ok) return refusals[response.status] ?? (await refused(response, what));
  let blob: Blob;
  try {
    blob = await response.blob();
  } catch {
    return `The ${what} could not be downloaded completely. Try again.`;
  }
  const href = URL.createObjectURL(blob);
  const save = document.createElement("a");
  save.href = href;
  save.download = filenameOf(response.headers.get("content-disposition")) ?? fallbackName;
  document.body.append(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
  return null;
}

/** The server's own message for a refused request (400: what to change), if it gave one. */
async function refused(response: Response, what: string): Promise<string> {
  try {
    const body = (await response.json()) as { errors?: { message?: string }[] };
    const message = body.errors?.[0]?.message;
    if (response.status === 400 && message) return message;
  } catch {
    // not JSON: the generic message
  }
  return `The ${what} could not be downloaded. Try again.`;
}

function filenameOf(disposition: string | null): string | null {
  const found = disposition?.match(/filename="?([^";]+)"?/i);
  return found ? found[1] : null;
}
