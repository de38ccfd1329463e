// A typed client of the Vellum API: paths, parameters and bodies come from openapi.json, generated into
// schema.d.ts by `npm run generate` (openapi-typescript); requests go through openapi-fetch.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };

/** The problem+json body of every refusal: `type`, `title`, `status`, `detail`, and the fields at fault. */
export type Problem = components["schemas"]["Problem"];

export interface VellumClientOptions {
  /** The API's base URL: the stack's `ApiUrl` output, or `http://127.0.0.1:3000` for the local server. */
  baseUrl: string;
  /** The signed-in staff member's bearer token, asked for before each request (so it can be refreshed). */
  token: () => string | Promise<string>;
  /** A fetch of your own (tests, React Native); the global one by default. */
  fetch?: typeof globalThis.fetch;
}

/**
 * A client whose every call is checked against the API's document at compile time, e.g.
 * `client.GET("/v1/patients/{patientId}", { params: { path: { patientId } } })`. A change (POST) takes an
 * `Idempotency-Key` header: keep the key for retries of the same change, so the server writes it once.
 */
export function createVellumClient(options: VellumClientOptions): Client<paths> {
  const client = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  const bearer: Middleware = {
    async onRequest({ request }) {
      request.headers.set("authorization", `Bearer ${await options.token()}`);
      return request;
    },
  };
  client.use(bearer);
  return client;
}
