// What the browser tests share: the local server (its own data directory, messages dispatched every
// second into its outbox folder), headless Chromium, and small helpers for the API and the outbox.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const binary = process.env.VELLUM_LOCAL_BIN || join(root, "target", "debug", "vellum-local");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
export const shots = join(root, "target", "browser");
let server, dataDir;
export let base, browser;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const port = s.address().port; s.close(() => resolve(port)); });
  });
}

export async function call(method, path, token, body, extraHeaders = {}) {
  const headers = { ...extraHeaders };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const type = response.headers.get("content-type") || "";
  const payload = type.includes("json") ? await response.json() : Buffer.from(await response.arrayBuffer());
  return { status: response.status, body: payload, type, etag: response.headers.get("etag") };
}

export async function devToken(claims) {
  return (await call("POST", "/v1/dev/token", null, claims)).body.token;
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "vellum-browser-"));
  mkdirSync(shots, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(binary, [], { env: { ...process.env, VELLUM_ADDR: `127.0.0.1:${port}`, VELLUM_DATA_DIR: dataDir, VELLUM_DISPATCH_SECONDS: "1", RUST_LOG: "warn" }, stdio: "inherit" });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(base + "/v1/openapi.json")).ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The first message the local server's outbox holds for `to` (with `including` in its text), waiting for
 * the dispatcher to send it. */
export async function receive(to, including = "") {
  const outbox = join(dataDir, "outbox");
  for (let i = 0; i < 100; i++) {
    let names = [];
    try { names = readdirSync(outbox).filter((n) => n.endsWith(".json")).sort(); } catch { /* not yet */ }
    for (const name of names) {
      const message = JSON.parse(readFileSync(join(outbox, name), "utf8"));
      if (message.to === to && message.text.includes(including)) return message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no message to ${to} in the outbox`);
}

/** Signs in as `userId` with no clinic yet and accepts a staff invitation's code. */
export async function joinClinic(userId, code) {
  const joiner = await devToken({ userId, role: "joiner" });
  assert.equal((await call("POST", "/v1/staff/join", joiner, { code })).status, 200);
}

