(function () {
  "use strict";
  var parts = location.pathname.split("/").filter(Boolean);

  function call(method, path, body) {
    var init = { method: method, headers: {} };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.headers["idempotency-key"] = randomKey();
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) { return { status: r.status, body: b }; });
    });
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // The confirmation link: opening it confirms the hold it names.
  if (parts[1] === "confirm") {
    message("Confirming your booking…");
    call("POST", "/v1/booking/confirmations/" + encodeURIComponent(parts[2]), {}).then(function (r) {
      if (r.status === 200) {
        app.textContent = "";
        app.appendChild(el("h1", { text: r.body.clinicName }));
        app.appendChild(el("p", { "class": "notice done", role: "status",
          text: "Your appointment on " + r.body.when + " is booked. " +
            (r.body.forms ? "A text message with your forms is on its way: please fill them in before your visit." : "See you then.") }));
      } else if (r.status === 410) {
        message("This booking was not confirmed in time and its time was released. Please book again.", "error");
      } else {
        message("This link does not work. Please book again from the clinic's booking page.", "error");
      }
    }).catch(function () { message("You seem to be offline. Open the link again when you are connected.", "error"); });
    return;
  }

  var slug = parts[1];
  var api = "/v1/booking/" + encodeURIComponent(slug);
  var offer = null;
  var chosen = { service: null, start: null, label: "" };
  var firstDay = new Date();

  function isoDate(d) {
    return d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2);
  }

  function addDays(d, n) { var c = new Date(d.getTime()); c.setDate(c.getDate() + n); return c; }

  function render() {
    app.textContent = "";
    app.appendChild(el("h1", { text: offer.clinicName }));
    app.appendChild(el("p", { text: "Book an appointment. Times are the clinic's local time (" + offer.timeZone + ")." }));
    if (!offer.services.length) {
      app.appendChild(el("p", { "class": "notice", text: "This clinic offers no online booking right now." }));
      return;
    }
    var fieldset = el("fieldset", {}, [el("legend", { text: "1. Choose a treatment" })]);
    var list = el("div", { "class": "services" });
    offer.services.forEach(function (s) {
      var id = "service-" + s.id;
      var input = el("input", { type: "radio", name: "service", id: id, value: s.id });
      if (chosen.service === s.id) input.checked = true;
      input.addEventListener("change", function () { chosen.service = s.id; chosen.start = null; loadTimes(); });
      var meta = s.durationMinutes + " min" + (s.price ? " · " + s.price.amount + " " + s.price.currency : "");
      list.appendChild(el("label", { "class": "service", "for": id }, [input, el("span", { text: s.name }), el("span", { "class": "meta", text: meta })]));
    });
    fieldset.appendChild(list);
    app.appendChild(fieldset);
    app.appendChild(el("section", { id: "times", "aria-label": "2. Choose a time" }));
    app.appendChild(el("section", { id: "details" }));
  }

  function loadTimes() {
    var section = document.getElementById("times");
    section.textContent = "";
    document.getElementById("details").textContent = "";
    section.appendChild(el("h2", { text: "2. Choose a time" }));
    var status = el("p", { "class": "status", role: "status", text: "Looking for free times…" });
    section.appendChild(status);
    var from = isoDate(firstDay);
    var to = isoDate(addDays(firstDay, offer.maxDaysPerCall - 1));
    call("GET", api + "/availability?serviceId=" + encodeURIComponent(chosen.service) + "&from=" + from + "&to=" + to).then(function (r) {
      if (r.status !== 200) { status.textContent = "Free times could not be loaded. Please try again."; return; }
      status.textContent = r.body.items.length ? "" : "No free times between " + from + " and " + to + ".";
      var byDay = {};
      r.body.items.forEach(function (i) { var day = i.start.slice(0, 10); (byDay[day] = byDay[day] || []).push(i.start); });
      Object.keys(byDay).sort().forEach(function (day) {
        section.appendChild(el("p", { "class": "day", text: day }));
        var times = el("div", { "class": "times", role: "group", "aria-label": "Free times on " + day });
        byDay[day].forEach(function (start) {
          var label = start.slice(11, 16);
          var button = el("button", { type: "button", "aria-pressed": String(chosen.start === start), "aria-label": day + " " + label, text: label });
          button.addEventListener("click", function () {
            chosen.start = start;
            chosen.label = day + " " + label;
            Array.prototype.forEach.call(section.querySelectorAll("button[aria-pressed]"), function (b) { b.setAttribute("aria-pressed", "false"); });
            button.setAttribute("aria-pressed", "true");
            renderDetails();
          });
          times.appendChild(button);
        });
        section.appendChild(times);
      });
      var earlier = el("button", { type: "button", text: "Earlier dates" });
      earlier.disabled = firstDay <= new Date();
      earlier.addEventListener("click", function () { firstDay = addDays(firstDay, -offer.maxDaysPerCall); if (firstDay < new Date()) firstDay = new Date(); loadTimes(); });
      var later = el("button", { type: "button", text: "Later dates" });
      later.disabled = addDays(firstDay, offer.maxDaysPerCall) > addDays(new Date(), offer.horizonDays);
      later.addEventListener("click", function () { firstDay = addDays(firstDay, offer.maxDaysPerCall); loadTimes(); });
      section.appendChild(el("div", { "class": "nav" }, [earlier, later]));
    }).catch(function () { status.textContent = "You seem to be offline."; });
  }

  var FIELDS = [
    ["givenName", "First name", "text", "given-name"],
    ["familyName", "Last name", "text", "family-name"],
    ["birthDate", "Date of birth", "date", "bday"],
    ["sexAtBirth", "Sex assigned at birth", "select", ""],
    ["phone", "Mobile phone (with country code, e.g. +14155550123)", "tel", "tel"],
    ["email", "E-mail (optional)", "email", "email"]
  ];

  function renderDetails() {
    var section = document.getElementById("details");
    section.textContent = "";
    section.appendChild(el("h2", { text: "3. Your details" }));
    section.appendChild(el("p", { text: "For " + chosen.label + ". We text you a link: the time is held for " + offer.holdMinutes + " minutes until you open it." }));
    var inputs = {};
    FIELDS.forEach(function (f) {
      var id = "f-" + f[0];
      section.appendChild(el("label", { "class": "field", "for": id, text: f[1] }));
      var input;
      if (f[2] === "select") {
        input = el("select", { id: id }, [["", "Choose…"], ["female", "Female"], ["male", "Male"], ["intersex", "Intersex"], ["unknown", "Prefer not to say"]].map(function (o) {
          return el("option", { value: o[0], text: o[1] });
        }));
      } else {
        input = el("input", { id: id, type: f[2], autocomplete: f[3] });
      }
      input.setAttribute("aria-describedby", id + "-error");
      inputs[f[0]] = input;
      section.appendChild(input);
      section.appendChild(el("p", { "class": "error", id: id + "-error" }));
    });
    var status = el("p", { "class": "status", role: "status" });
    var send = el("button", { type: "button", "class": "primary", text: "Hold this time and text me the link" });
    send.addEventListener("click", function () {
      var body = { serviceId: chosen.service, start: chosen.start };
      Object.keys(inputs).forEach(function (k) { var v = inputs[k].value.trim(); if (v) body[k] = v; });
      Object.keys(inputs).forEach(function (k) { inputs[k].removeAttribute("aria-invalid"); document.getElementById("f-" + k + "-error").textContent = ""; });
      send.disabled = true;
      status.textContent = "Holding the time…";
      call("POST", api + "/holds", body).then(function (r) {
        send.disabled = false;
        if (r.status === 202) {
          app.textContent = "";
          app.appendChild(el("h1", { text: offer.clinicName }));
          app.appendChild(el("p", { "class": "notice done", role: "status", text: "We are holding " + r.body.when + " for you. Open the link in the text message we sent within " + offer.holdMinutes + " minutes to confirm." }));
          return;
        }
        if (r.status === 409) {
          status.textContent = "That time was just taken. Please choose another.";
          loadTimes();
          return;
        }
        if (r.status === 429) { status.textContent = "Too many requests just now. Please wait a minute and try again."; return; }
        var errors = (r.body && r.body.errors) || [];
        var first = null;
        errors.forEach(function (e) {
          var input = inputs[e.field];
          if (!input) return;
          input.setAttribute("aria-invalid", "true");
          document.getElementById("f-" + e.field + "-error").textContent = e.message;
          if (!first) first = input;
        });
        status.textContent = errors.length ? "Please check the highlighted answers." : (r.body.detail || "The booking could not be made.");
        if (first) first.focus();
      }).catch(function () { send.disabled = false; status.textContent = "You seem to be offline."; });
    });
    section.appendChild(send);
    section.appendChild(status);
  }

  call("GET", api).then(function (r) {
    if (r.status !== 200) { message("This booking page does not exist.", "error"); return; }
    offer = r.body;
    document.title = "Book at " + offer.clinicName;
    render();
  }).catch(function () { message("You seem to be offline.", "error"); });
})();
