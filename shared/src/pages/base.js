"use strict";
// What every public page's script starts with: building elements, and one message in place of the page.
var app = document.getElementById("app");

function el(tag, attrs, children) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) {
    if (k === "text") node.textContent = attrs[k];
    else if (k === "hidden") node.hidden = attrs[k];
    else node.setAttribute(k, attrs[k]);
  });
  (children || []).forEach(function (c) { if (c) node.appendChild(c); });
  return node;
}

function message(text, extra) {
  app.textContent = "";
  app.appendChild(el("p", { "class": "notice" + (extra ? " " + extra : ""), text: text }));
}
