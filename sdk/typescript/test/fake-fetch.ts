// A scripted fetch for unit tests: each call takes the next answer.
import type { FetchFn } from "@izinhq/izin";

export interface Recorded {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

export type Answer =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { error: Error }
  | "hang";

export function fakeFetch(...answers: Answer[]): FetchFn & { calls: Recorded[] } {
  const calls: Recorded[] = [];
  const f = (async (url: string, init: RequestInit) => {
    calls.push({
      url,
      method: init.method ?? "GET",
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    });
    const a = answers.length > 1 ? answers.shift()! : answers[0];
    if (a === undefined) throw new Error("fakeFetch: no answer left");
    if (a === "hang") {
      // Like fetch: settles only when the signal aborts.
      return new Promise<Response>((_, reject) => {
        const s = init.signal;
        s?.addEventListener("abort", () => reject(new DOMException("This operation was aborted", "AbortError")));
      });
    }
    if ("error" in a) throw a.error;
    const text = a.body === undefined ? "" : typeof a.body === "string" ? a.body : JSON.stringify(a.body);
    return new Response(text, { status: a.status, headers: { "content-type": "application/json", ...a.headers } });
  }) as FetchFn & { calls: Recorded[] };
  f.calls = calls;
  return f;
}

export const unavailable: Answer = { status: 503, body: { code: 14, message: "try again", details: [] } };
