/* Vécu web chat. Every text from the server is rendered with textContent (never innerHTML). */
(function () {
  "use strict";

  var STORE_ID = "vecu.conversation_id";
  var STORE_LANG = "vecu.language";
  var SUPPORTED = ["fr", "en"];
  var TIMEOUT_MS = 60000;

  var params = new URLSearchParams(window.location.search);
  var audience = params.get("audience") === "employee" ? "employee" : "customer";
  // an employee comes through a link Vécu issued (vecu employees link): ?audience=employee&link=…
  var employeeLink = params.get("link") || "";
  var labels = { fr: {}, en: {} };
  var language = pickLanguage();
  var busy = false;

  var $ = function (id) { return document.getElementById(id); };
  var log = $("log"), form = $("form"), input = $("input"), sendButton = $("send");
  var typing = $("typing"), errorBox = $("error");

  function pickLanguage() {
    // A link's ?lang= wins, then this tab's choice, then the browser's language.
    var fromQuery = (params.get("lang") || "").slice(0, 2).toLowerCase();
    if (SUPPORTED.indexOf(fromQuery) >= 0) { return fromQuery; }
    var stored = sessionStorage.getItem(STORE_LANG);
    if (stored && SUPPORTED.indexOf(stored) >= 0) { return stored; }
    var nav = (navigator.languages && navigator.languages[0]) || navigator.language || "fr";
    nav = nav.slice(0, 2).toLowerCase();
    return SUPPORTED.indexOf(nav) >= 0 ? nav : "fr";
  }

  function randomId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function conversationId() {
    var id = sessionStorage.getItem(STORE_ID);
    if (!id) { id = randomId(); sessionStorage.setItem(STORE_ID, id); }
    return id;
  }

  function label(key) {
    return (labels[language] && labels[language][key]) || (labels.fr && labels.fr[key]) || "";
  }

  function applyLabels() {
    document.documentElement.lang = language;
    document.title = label("title") || "Vécu";
    document.querySelectorAll("[data-label]").forEach(function (el) {
      var text = label(el.getAttribute("data-label"));
      if (text) { el.textContent = text; }
    });
    $("subtitle").textContent = label(audience === "employee" ? "subtitle_employee" : "subtitle");
    input.placeholder = label("placeholder");
    log.setAttribute("aria-label", label("log_label"));
    document.querySelectorAll(".lang__btn").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-lang") === language));
    });
    $("lang-group").setAttribute("aria-label", label("language") || "Langue / Language");
  }

  function setLanguage(lang) {
    if (SUPPORTED.indexOf(lang) < 0) { return; }
    sessionStorage.setItem(STORE_LANG, lang);
    if (lang === language) { return; }
    language = lang;
    applyLabels();
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function bubble(who, text) {
    var row = document.createElement("div");
    row.className = "msg msg--" + who;
    var sr = document.createElement("span");
    sr.className = "visually-hidden";
    sr.textContent = label(who === "user" ? "you" : "bot") + " ";
    var body = document.createElement("p");
    body.className = "msg__text";
    body.textContent = text;
    row.appendChild(sr);
    row.appendChild(body);
    log.appendChild(row);
    scrollDown();
    return row;
  }

  function disableButtons(group, chosen) {
    group.querySelectorAll("button").forEach(function (b) {
      b.disabled = true;
      if (b === chosen) { b.classList.add("choice--chosen"); }
    });
  }

  function renderReply(reply) {
    var row = reply.text ? bubble("bot", reply.text) : null;
    if (reply.buttons && reply.buttons.length) {
      var group = document.createElement("div");
      group.className = "choices";
      group.setAttribute("role", "group");
      reply.buttons.forEach(function (btn) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "choice";
        b.textContent = btn.title;
        b.addEventListener("click", function () {
          if (busy) { return; }
          disableButtons(group, b);
          send(btn.payload, btn.title);
        });
        group.appendChild(b);
      });
      (row || log).appendChild(group);
      scrollDown();
    }
  }

  function setBusy(value) {
    busy = value;
    typing.hidden = !value;
    sendButton.disabled = value;
    if (value) { scrollDown(); }
  }

  function showError(show) {
    errorBox.hidden = !show;
    errorBox.textContent = show ? label("network_error") : "";
  }

  function request(message) {
    // The language is sent once known (toggle, or the server's answer): before that, the
    // server detects it from the text (then the browser's Accept-Language, then French).
    var body = { conversation_id: conversationId(), text: message, audience: audience };
    if (audience === "employee" && employeeLink) { body.employee_link = employeeLink; }
    if (sessionStorage.getItem(STORE_LANG)) { body.language = language; }
    return body;
  }

  function send(message, shown) {
    if (busy) { return Promise.resolve(false); }
    showError(false);
    bubble("user", shown);
    setBusy(true);
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    return fetch("/api/v1/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(request(message)),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!data || !Array.isArray(data.replies)) { throw new Error("bad answer"); }
        return data;
      });
    }).then(function (data) {
      if (data.language) { setLanguage(data.language); }
      data.replies.forEach(renderReply);
      return true;
    }).catch(function () {
      showError(true);
      return false;
    }).finally(function () {
      if (timer) { clearTimeout(timer); }
      setBusy(false);
    });
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 160) + "px";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim() || busy) { return; }
    input.value = "";
    autosize();
    send(text, text).then(function (ok) {
      if (!ok && !input.value) { input.value = text; autosize(); }
      input.focus();
    });
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  input.addEventListener("input", autosize);
  document.querySelectorAll(".lang__btn").forEach(function (b) {
    b.addEventListener("click", function () { setLanguage(b.getAttribute("data-lang")); });
  });
  $("new-conversation").addEventListener("click", function () {
    sessionStorage.removeItem(STORE_ID);
    log.textContent = "";
    showError(false);
    welcome();
    input.focus();
  });

  function welcome() {
    // The greeting is a label: it follows the page's language (toggle, or the language the
    // person writes in), so a French page never greets in English.
    var key = audience === "employee" ? "welcome_employee" : "welcome";
    bubble("bot", label(key)).querySelector(".msg__text").setAttribute("data-label", key);
  }

  /* Closed loop: messages Vécu sends later (e.g. "your issue is resolved") wait in an inbox. */
  var INBOX_MS = 20000;
  function pollInbox() {
    var id = sessionStorage.getItem(STORE_ID);
    if (!id || document.hidden) { return; }
    fetch("/api/v1/chat/inbox?conversation_id=" + encodeURIComponent(id)).then(function (r) {
      return r.ok ? r.json() : { replies: [] };
    }).then(function (data) {
      (data.replies || []).forEach(renderReply);
    }).catch(function () { /* offline for a moment: the next poll collects them */ });
  }
  setInterval(pollInbox, INBOX_MS);

  fetch("/i18n.json").then(function (r) { return r.json(); }).then(function (data) {
    labels = data.messages || labels;
  }).catch(function () { /* labels stay empty: the page still works */ }).finally(function () {
    applyLabels();
    welcome();
    document.body.setAttribute("data-ready", "true");
    input.focus();
  });
}());
