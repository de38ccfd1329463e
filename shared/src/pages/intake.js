(function () {
  "use strict";
  var token = location.pathname.split("/").filter(Boolean).pop();
  var api = "/v1/intake/" + encodeURIComponent(token);
  var answers = {};
  var data = null;
  var saveTimer = null;
  var statusEl = null;

  function fieldId(t, q) { return "q-" + t + "-" + q; }

  function setAnswer(t, q, value) {
    answers[t] = answers[t] || {};
    if (value === undefined) delete answers[t][q]; else answers[t][q] = value;
    scheduleSave();
  }

  function scheduleSave() {
    clearTimeout(saveTimer);
    if (statusEl) statusEl.textContent = "Saving…";
    saveTimer = setTimeout(saveDraft, 1500);
  }

  function saveDraft() {
    return fetch(api + "/draft", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ answers: answers }) })
      .then(function (r) { if (statusEl) statusEl.textContent = r.ok ? "Your answers are saved on this link." : "Could not save just now; your answers are kept on this page."; })
      .catch(function () { if (statusEl) statusEl.textContent = "You seem to be offline; your answers are kept on this page."; });
  }

  function errorNode(id) { return el("p", { "class": "error", id: id + "-error" }); }

  function describe(input, id, help) {
    var ids = [id + "-error"];
    if (help) ids.unshift(id + "-help");
    input.setAttribute("aria-describedby", ids.join(" "));
  }

  function labelFor(q, id) {
    var label = el("label", { "for": id, text: q.label + " " });
    if (q.required) label.appendChild(el("span", { "class": "required", text: "(required)" }));
    return label;
  }

  function legendFor(q) {
    var legend = el("legend", { text: q.label + " " });
    if (q.required) legend.appendChild(el("span", { "class": "required", text: "(required)" }));
    return legend;
  }

  function help(q, id) { return q.help ? el("p", { "class": "help", id: id + "-help", text: q.help }) : null; }

  function textQuestion(t, q, current) {
    var id = fieldId(t, q.id);
    var input = q.kind === "long-text" ? el("textarea", { id: id, name: id }) : el("input", { id: id, name: id, type: q.kind === "number" ? "number" : q.kind === "date" ? "date" : "text" });
    if (q.kind === "short-text" || q.kind === "long-text") input.setAttribute("maxlength", String(q.maxLength || (q.kind === "long-text" ? 5000 : 200)));
    if (q.kind === "number") { input.setAttribute("inputmode", "decimal"); if (q.min != null) input.setAttribute("min", q.min); if (q.max != null) input.setAttribute("max", q.max); }
    if (q.required) input.setAttribute("aria-required", "true");
    if (current != null) input.value = current;
    describe(input, id, q.help);
    input.addEventListener("input", function () {
      var v = input.value;
      if (q.kind === "number") setAnswer(t, q.id, v === "" ? undefined : Number(v));
      else setAnswer(t, q.id, v === "" ? undefined : v);
    });
    return el("div", { "class": "question", "data-field": "answers." + t + "." + q.id }, [labelFor(q, id), help(q, id), input, errorNode(id)]);
  }

  function choiceQuestion(t, q, current, onChange) {
    var id = fieldId(t, q.id);
    var multiple = q.kind === "multiple-choice";
    var options = q.kind === "yes-no" ? [{ value: true, label: "Yes" }, { value: false, label: "No" }] : q.options;
    var fieldset = el("fieldset", { id: id, "aria-describedby": id + "-error" }, [legendFor(q), help(q, id)]);
    var box = el("div", { "class": q.kind === "yes-no" ? "inline" : "" });
    options.forEach(function (o, i) {
      var oid = id + "-" + i;
      var input = el("input", { type: multiple ? "checkbox" : "radio", id: oid, name: id, value: String(o.value) });
      if (multiple ? (current || []).indexOf(o.value) >= 0 : current === o.value) input.checked = true;
      input.addEventListener("change", function () {
        var value;
        if (multiple) {
          value = Array.prototype.filter.call(fieldset.querySelectorAll("input"), function (x) { return x.checked; }).map(function (x) { return x.value; });
        } else {
          value = o.value;
        }
        setAnswer(t, q.id, value);
        if (onChange) onChange(value);
      });
      box.appendChild(el("label", { "class": "choice", "for": oid }, [input, document.createTextNode(o.label)]));
    });
    fieldset.appendChild(box);
    fieldset.appendChild(errorNode(id));
    return el("div", { "class": "question", "data-field": "answers." + t + "." + q.id }, [fieldset]);
  }

  function listQuestion(t, q, current) {
    var id = fieldId(t, q.id);
    var allergy = q.kind === "allergy-list";
    var fields = allergy ? [["substance", "Substance"], ["reaction", "Reaction"], ["severity", "Severity"]] : [["name", "Medicine"], ["dose", "Dose"], ["frequency", "How often"]];
    var items = Array.isArray(current) ? current.slice() : null;
    var rows = el("div", {});
    var none = el("input", { type: "checkbox", id: id + "-none" });
    var noneLabel = el("label", { "class": "choice", "for": id + "-none" }, [none, document.createTextNode(allergy ? "I have no allergies" : "I take no medicines")]);
    function commit() { setAnswer(t, q.id, items === null ? undefined : items.filter(function (x) { return x[fields[0][0]]; })); }
    function draw() {
      rows.textContent = "";
      none.checked = items !== null && items.length === 0;
      (items || []).forEach(function (item, index) {
        var row = el("div", { "class": "row" });
        fields.forEach(function (f) {
          var fid = id + "-" + index + "-" + f[0];
          var input = el("input", { type: "text", id: fid, maxlength: "200" });
          input.value = item[f[0]] || "";
          input.addEventListener("input", function () { item[f[0]] = input.value; commit(); });
          row.appendChild(el("div", {}, [el("label", { "for": fid, text: f[1] }), input]));
        });
        var remove = el("button", { type: "button", text: "Remove" });
        remove.addEventListener("click", function () { items.splice(index, 1); commit(); draw(); });
        row.appendChild(remove);
        rows.appendChild(row);
      });
    }
    none.addEventListener("change", function () { items = none.checked ? [] : null; commit(); draw(); });
    var add = el("button", { type: "button", id: id + "-add", text: allergy ? "Add an allergy" : "Add a medicine" });
    add.addEventListener("click", function () { items = items || []; var o = {}; items.push(o); draw(); var first = rows.querySelector(".row:last-child input"); if (first) first.focus(); });
    draw();
    var fieldset = el("fieldset", { id: id, "aria-describedby": id + "-error" }, [legendFor(q), help(q, id), noneLabel, rows, add, errorNode(id)]);
    return el("div", { "class": "question", "data-field": "answers." + t + "." + q.id }, [fieldset]);
  }

  function signatureQuestion(t, q, current) {
    var id = fieldId(t, q.id);
    var consent = el("div", { "class": "consent", id: id + "-text", tabindex: "0", text: q.consentText || "" });
    var name = el("input", { type: "text", id: id, maxlength: "200", autocomplete: "name" });
    describe(name, id, false);
    var canvas = el("canvas", { id: id + "-pad", role: "img", "aria-label": "Signature pad: draw your signature with your finger or mouse", tabindex: "0" });
    var drawn = false;
    var value = current && typeof current === "object" ? { typedName: current.typedName || "", drawing: current.drawing || "" } : { typedName: "", drawing: "" };
    name.value = value.typedName;
    function commit() { setAnswer(t, q.id, value.typedName || value.drawing ? value : undefined); }
    name.addEventListener("input", function () { value.typedName = name.value; commit(); });
    var ctx = canvas.getContext("2d");
    function size() {
      var ratio = window.devicePixelRatio || 1;
      canvas.width = Math.round(canvas.clientWidth * ratio) || 600;
      canvas.height = Math.round(canvas.clientHeight * ratio) || 160;
      ctx.scale(ratio, ratio);
      ctx.lineWidth = 2.2; ctx.lineCap = "round"; ctx.strokeStyle = "#111";
    }
    var last = null;
    function point(e) { var r = canvas.getBoundingClientRect(); return { x: e.clientX - r.left, y: e.clientY - r.top }; }
    canvas.addEventListener("pointerdown", function (e) { if (!canvas.width) size(); canvas.setPointerCapture(e.pointerId); last = point(e); });
    canvas.addEventListener("pointermove", function (e) {
      if (!last) return;
      var p = point(e);
      ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
      last = p; drawn = true;
    });
    function finish() { if (last && drawn) { value.drawing = canvas.toDataURL("image/png"); commit(); } last = null; }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    var clear = el("button", { type: "button", text: "Clear signature" });
    clear.addEventListener("click", function () { ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false; value.drawing = ""; commit(); });
    setTimeout(size, 0);
    return el("div", { "class": "question", "data-field": "answers." + t + "." + q.id }, [
      el("div", { "class": "label", text: q.label }), consent,
      el("label", { "for": id, text: "Type your full name " }, [el("span", { "class": "required", text: q.required ? "(required)" : "" })]), name,
      el("p", { "class": "help", text: "Then sign in the box below." }), canvas, clear, errorNode(id)
    ]);
  }

  function photoQuestion(t, q, current) {
    var id = fieldId(t, q.id);
    var input = el("input", { type: "file", id: id, accept: "image/jpeg,image/png,image/webp" });
    describe(input, id, q.help);
    var state = el("p", { "class": "status", id: id + "-state", text: current ? "A photo is attached." : "" });
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) return;
      state.textContent = "Uploading…";
      fetch(api + "/photos", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ contentType: file.type, byteSize: file.size }) })
        .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.detail || "refused"); return b; }); })
        .then(function (b) {
          var headers = {};
          b.upload.headers.forEach(function (h) { if (h[0].toLowerCase() !== "content-length") headers[h[0]] = h[1]; });
          return fetch(b.upload.url, { method: b.upload.method, headers: headers, body: file }).then(function (r) {
            if (!r.ok) throw new Error("the upload was refused");
            setAnswer(t, q.id, b.photoId); state.textContent = "Photo uploaded.";
          });
        })
        .catch(function (e) { state.textContent = "The photo could not be sent: " + e.message; });
    });
    return el("div", { "class": "question", "data-field": "answers." + t + "." + q.id }, [labelFor(q, id), help(q, id), input, state, errorNode(id)]);
  }

  function question(t, q, current) {
    switch (q.kind) {
      case "single-choice": case "multiple-choice": return choiceQuestion(t, q, current);
      case "yes-no": {
        var follow = q.followUp ? question(t, q.followUp, (answers[t] || {})[q.followUp.id]) : null;
        if (follow) follow.hidden = current !== true;
        var node = choiceQuestion(t, q, current, function (v) { if (follow) follow.hidden = v !== true; });
        return follow ? el("div", {}, [node, follow]) : node;
      }
      case "allergy-list": case "medication-list": return listQuestion(t, q, current);
      case "signature": return signatureQuestion(t, q, current);
      case "photo": return photoQuestion(t, q, current);
      default: return textQuestion(t, q, current);
    }
  }

  function showErrors(errors) {
    document.querySelectorAll(".error").forEach(function (e) { e.textContent = ""; });
    document.querySelectorAll("[aria-invalid]").forEach(function (e) { e.removeAttribute("aria-invalid"); });
    var summary = document.getElementById("summary");
    summary.textContent = "";
    if (!errors.length) { summary.hidden = true; return; }
    var list = el("ul", {});
    var first = null;
    errors.forEach(function (e) {
      var parts = e.field.split(".");
      var id = fieldId(parts[1], parts.slice(2).join("."));
      var target = document.getElementById(id);
      var slot = document.getElementById(id + "-error");
      if (slot) slot.textContent = e.message;
      if (target) { target.setAttribute("aria-invalid", "true"); first = first || target; }
      var link = el("a", { href: "#" + id, text: (target ? labelText(target) : e.field) + ": " + e.message });
      list.appendChild(el("li", {}, [link]));
    });
    summary.appendChild(el("h2", { text: "Please check " + errors.length + (errors.length === 1 ? " answer" : " answers") }));
    summary.appendChild(list);
    summary.hidden = false;
    summary.focus();
  }

  function labelText(target) {
    var q = target.closest(".question");
    var l = q && (q.querySelector("legend") || q.querySelector("label") || q.querySelector(".label"));
    return l ? l.textContent.replace(" (required)", "") : "";
  }

  function submit(button) {
    button.disabled = true;
    clearTimeout(saveTimer);
    fetch(api + "/submit", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ answers: answers }) })
      .then(function (r) {
        return r.json().then(function (b) {
          if (r.status === 201) { message("Thank you, " + data.patientFirstName + ". Your forms were sent to " + data.clinicName + ".", "done"); window.scrollTo(0, 0); return; }
          button.disabled = false;
          if (b.errors) showErrors(b.errors); else showErrors([{ field: "answers.form", message: b.detail || "Something went wrong; please try again." }]);
        });
      })
      .catch(function () { button.disabled = false; statusEl.textContent = "Could not send just now; check your connection and try again."; });
  }

  function render() {
    app.textContent = "";
    app.appendChild(el("h1", { text: data.clinicName }));
    app.appendChild(el("p", { text: "Hello " + data.patientFirstName + ". Please fill in the forms below before your visit. Your answers are saved as you go." }));
    app.appendChild(el("div", { id: "summary", "class": "summary", tabindex: "-1", role: "alert", hidden: true }));
    data.forms.forEach(function (form) {
      var t = form.templateId;
      var box = el("section", { "class": "form", "aria-labelledby": "title-" + t }, [el("h2", { id: "title-" + t, text: form.content.title })]);
      if (form.content.description) box.appendChild(el("p", { "class": "help", text: form.content.description }));
      form.content.sections.forEach(function (s) {
        var fs = el("fieldset", {}, [el("legend", { text: s.title })]);
        s.questions.forEach(function (q) { fs.appendChild(question(t, q, (answers[t] || {})[q.id])); });
        box.appendChild(fs);
      });
      app.appendChild(box);
    });
    statusEl = el("p", { "class": "status", role: "status", id: "save-status" });
    var button = el("button", { type: "button", "class": "primary", id: "send", text: "Send to " + data.clinicName });
    button.addEventListener("click", function () { submit(button); });
    app.appendChild(button);
    app.appendChild(statusEl);
  }

  fetch(api).then(function (r) {
    if (r.status === 410) return message("These forms were already sent to your clinic. Thank you.", "done");
    if (!r.ok) return message("This link does not work. It may have expired or been replaced: please ask your clinic for a new one.");
    return r.json().then(function (b) { data = b; answers = b.draft || {}; render(); });
  }).catch(function () { message("The forms could not be loaded. Check your connection and reload the page."); });
})();
