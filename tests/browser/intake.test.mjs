// The intake page in headless Chromium: a patient opens the link on a phone-sized screen, misses a
// required answer, sees the error next to it, fixes it, signs and sends; staff then find the submission,
// the signed consent as a PDF, and accept the allergy into the chart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { browser, call, devToken, joinClinic, receive, shots } from "./harness.mjs";

test("a patient fills in the forms on a phone, fixes a missed answer, signs, and staff receive it", async () => {
  const operator = await devToken({ userId: "op-1", role: "operator" });
  const clinic = await call("POST", "/v1/clinics", operator, {
    name: "Glow Aesthetics", timeZone: "America/Los_Angeles", country: "US",
    contact: { email: "hello@glow.example" }, admin: { displayName: "Dr. Rivera" },
  });
  assert.equal(clinic.status, 201);
  await joinClinic("admin-1", clinic.body.adminInvitationCode);
  const admin = await devToken({ clinicId: clinic.body.id, userId: "admin-1", role: "admin" });
  for (const id of ["medical-history", "neurotoxin-consent"]) {
    assert.equal((await call("PUT", `/v1/form-templates/${id}`, admin, { copyOf: id })).status, 201);
  }
  const invitation = await call("POST", "/v1/invitations", admin, {
    newPatient: { givenName: "Ana", familyName: "García", birthDate: "1988-04-12", sexAtBirth: "female", email: "ana@mail.example" },
    templateIds: ["medical-history", "neurotoxin-consent"], channel: "email",
  });
  assert.equal(invitation.status, 201);
  assert.equal(invitation.body.delivery.status, "queued");
  const patientId = invitation.body.patientId;
  // The patient receives the e-mail (the local server's outbox) and opens its link.
  const message = await receive("ana@mail.example");
  const link = message.text.match(/https?:\/\/\S+/)[0];
  assert.equal(link, invitation.body.link);
  assert.ok(!message.text.includes("García"), "no family name in the message");

  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  // Script errors only: a refused submission is an expected 4xx, which the console also reports.
  page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text()); });
  await page.goto(link);
  await page.getByRole("heading", { name: "Glow Aesthetics" }).waitFor();
  assert.ok(await page.getByText("Hello Ana").isVisible());

  await page.getByRole("button", { name: "Add an allergy" }).click();
  await page.locator("#q-medical-history-allergies-0-substance").fill("Penicillin");
  await page.locator("#q-medical-history-allergies-0-reaction").fill("Hives");
  await page.getByLabel("I take no medicines").check();
  for (const [question, answer] of [["pregnant", "No"], ["keloids", "No"], ["cold-sores", "Yes"], ["bleeding", "No"]]) {
    await page.locator(`#q-medical-history-${question}`).getByLabel(answer, { exact: true }).check();
  }
  await page.locator("#q-neurotoxin-consent-signature").fill("Ana García");
  const pad = page.locator("#q-neurotoxin-consent-signature-pad");
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + 30, box.y + 100);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + 30 + i * 22, box.y + 100 - Math.sin(i / 2) * 45, { steps: 2 });
  await page.mouse.up();

  // The consent's "I have read" is missed: the error appears next to it, and in the summary.
  await page.getByRole("button", { name: /Send to/ }).click();
  const error = page.locator("#q-neurotoxin-consent-understood-error");
  await error.waitFor({ state: "visible" });
  assert.equal(await error.textContent(), "is required");
  assert.equal(await page.locator("#q-neurotoxin-consent-understood").getAttribute("aria-invalid"), "true");
  assert.ok(await page.getByRole("alert").getByText("Please check 1 answer").isVisible());
  await error.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shots, "intake-error.png") });

  await page.locator("#q-neurotoxin-consent-understood").getByLabel("Yes", { exact: true }).check();
  await page.getByRole("button", { name: /Send to/ }).click();
  await page.getByText("Thank you, Ana").waitFor();
  await page.screenshot({ path: join(shots, "intake-sent.png") });
  assert.deepEqual(problems, []);

  // The link is used up.
  await page.reload();
  await page.getByText("already sent").waitFor();

  // Staff: the submission, its signature, the consent PDF, and the allergy accepted into the chart.
  const invited = await call("POST", "/v1/staff", admin, { role: "practitioner", displayName: "Dr. Rivera" });
  await joinClinic("dr-1", invited.body.code);
  const doctor = await devToken({ clinicId: clinic.body.id, userId: "dr-1", role: "practitioner" });
  const submissions = await call("GET", `/v1/patients/${patientId}/submissions`, doctor);
  assert.equal(submissions.status, 200);
  assert.equal(submissions.body.items.length, 1);
  const submission = submissions.body.items[0];
  assert.equal(submission.signatures[0].typedName, "Ana García");
  assert.match(submission.signatures[0].consentTextSha256, /^[0-9a-f]{64}$/);
  assert.equal(submission.forms[0].answers.allergies[0].substance, "Penicillin");
  const pdf = await call("GET", `/v1/patients/${patientId}/submissions/${submission.id}/consents/neurotoxin-consent`, doctor);
  assert.equal(pdf.status, 200);
  assert.equal(pdf.type, "application/pdf");
  assert.equal(pdf.body.subarray(0, 5).toString(), "%PDF-");
  const accepted = await call("POST", `/v1/patients/${patientId}/submissions/${submission.id}/accept`, doctor, {
    items: [{ templateId: "medical-history", questionId: "allergies", index: 0 }],
  });
  assert.equal(accepted.status, 200);
  const chart = await call("GET", `/v1/patients/${patientId}/chart`, doctor);
  const allergy = chart.body.allergies.items[0];
  assert.equal(allergy.substance, "Penicillin");
  assert.deepEqual(allergy.source, { type: "patient-entered", submissionId: submission.id });
});
