// The booking page in headless Chromium: a patient on a phone picks a treatment and a free time, gives
// their details, receives the confirmation link by text (the local server's outbox), opens it, and the
// appointment is on the staff's day list.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { base, browser, call, devToken, joinClinic, receive, shots } from "./harness.mjs";

test("a patient books online on a phone, confirms from the text, and staff see the appointment", async () => {
  const operator = await devToken({ userId: "op-1", role: "operator" });
  const clinic = await call("POST", "/v1/clinics", operator, {
    name: "Glow Booking", timeZone: "America/Los_Angeles", country: "US",
    contact: { email: "front@glow.example" }, admin: { displayName: "Dr. Admin" },
  });
  assert.equal(clinic.status, 201);
  await joinClinic("admin-b", clinic.body.adminInvitationCode);
  const admin = await devToken({ clinicId: clinic.body.id, userId: "admin-b", role: "admin" });
  const profile = await call("GET", "/v1/clinic", admin);
  const slugged = await call("PATCH", "/v1/clinic", admin, { bookingSlug: "glow-booking" }, { "if-match": profile.etag });
  assert.equal(slugged.status, 200);
  const invited = await call("POST", "/v1/staff", admin, { role: "practitioner", displayName: "Dr. Rivera" });
  await joinClinic("dr-b", invited.body.code);
  const span = [{ start: "09:00", end: "17:00" }];
  const weekly = Object.fromEntries(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"].map((d) => [d, span]));
  assert.equal((await call("PUT", "/v1/staff/dr-b/working-hours", admin, { weekly })).status, 200);
  const service = await call("POST", "/v1/services", admin, {
    name: "Hydrating facial", durationMinutes: 60, intervalMinutes: 60, performedBy: { role: "practitioner" },
    bookableOnline: true, price: { amount: "120.00", currency: "USD" },
  });
  assert.equal(service.status, 201);

  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text()); });
  await page.goto(`${base}/book/glow-booking`);
  await page.getByRole("heading", { name: "Glow Booking" }).waitFor();
  await page.getByLabel(/Hydrating facial/).check();
  const first = page.locator(".times button").first();
  await first.waitFor();
  const slot = await first.getAttribute("aria-label");
  await first.click();
  await page.getByLabel("First name").fill("Dana");
  await page.getByLabel("Last name").fill("Booker");
  await page.getByLabel("Date of birth").fill("1990-05-17");
  await page.getByLabel("Sex assigned at birth").selectOption("female");
  await page.getByLabel(/Mobile phone/).fill("+14155550199");
  await page.screenshot({ path: join(shots, "booking-details.png") });
  await page.getByRole("button", { name: "Hold this time and text me the link" }).click();
  await page.getByText(/We are holding/).waitFor();

  // The text arrives with the link; opening it confirms.
  const held = await receive("+14155550199", "/book/confirm/");
  assert.ok(!held.text.includes("Booker") && !held.text.includes("facial"), held.text);
  const link = held.text.match(/https?:\/\/\S+/)[0];
  const confirmPage = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  confirmPage.on("pageerror", (e) => problems.push(e.message));
  await confirmPage.goto(link);
  await confirmPage.getByText(/is booked/).waitFor();
  await confirmPage.screenshot({ path: join(shots, "booking-confirmed.png") });
  assert.deepEqual(problems, []);

  // On the staff's day list, for a patient registered from what was typed.
  const day = slot.slice(0, 10);
  const list = await call("GET", `/v1/appointments?from=${day}&to=${day}`, admin);
  assert.equal(list.status, 200);
  assert.equal(list.body.items.length, 1);
  assert.equal(list.body.items[0].status, "booked");
  const patient = await call("GET", `/v1/patients/${list.body.items[0].patientId}`, admin);
  assert.equal(patient.body.familyName, "Booker");
});
