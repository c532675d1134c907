// Stockade's passkey buttons: a progressive enhancement of the pages.
//
// Every passkey control is in the page with the `hidden` attribute and a
// `data-passkey` marker; this script shows them only in a browser that can
// run a WebAuthn ceremony from JSON options (PublicKeyCredential's
// parseCreationOptionsFromJSON / parseRequestOptionsFromJSON / toJSON).
// Without it, or without JavaScript, the buttons stay hidden and every
// other form works. A button names its ceremony in
// `data-passkey-action`:
//
//   signin    POST /auth/passkeys/signin/begin, navigator.credentials.get,
//             POST /auth/passkeys/signin/finish {credential}
//   register  POST /auth/passkeys/register/begin, navigator.credentials.create,
//             POST /auth/passkeys/register/finish {name, credential}
//   stepup    POST /auth/passkeys/step-up/begin, navigator.credentials.get,
//             POST /auth/passkeys/step-up/finish {credential}
//
// and then goes to `data-next` (a path of this site). The calls are
// same-origin JSON posts to the API with the session cookie. The page's
// CSP allows this file (script-src 'self') and the calls
// (connect-src 'self'), nothing inline.
(function () {
  "use strict";

  var PKC = window.PublicKeyCredential;
  if (!PKC || !navigator.credentials ||
      typeof PKC.parseCreationOptionsFromJSON !== "function" ||
      typeof PKC.parseRequestOptionsFromJSON !== "function" ||
      typeof PKC.prototype.toJSON !== "function") {
    return;
  }

  var ceremonies = {
    signin: { begin: "/auth/passkeys/signin/begin", finish: "/auth/passkeys/signin/finish", create: false },
    register: { begin: "/auth/passkeys/register/begin", finish: "/auth/passkeys/register/finish", create: true },
    stepup: { begin: "/auth/passkeys/step-up/begin", finish: "/auth/passkeys/step-up/finish", create: false }
  };

  // ApiError is a refusal from the API: its status and problem detail.
  function ApiError(status, detail) {
    this.status = status;
    this.message = detail;
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) {
          throw new ApiError(res.status, (data && data.detail) || res.statusText || "The request was refused.");
        }
        return data;
      });
    });
  }

  // samePath is next when it is a path of this site, else "/".
  function samePath(next) {
    if (typeof next !== "string" || next.charAt(0) !== "/" || next.charAt(1) === "/" || next.indexOf("\\") >= 0) {
      return "/";
    }
    return next;
  }

  function errorBox(button) {
    var scope = button.closest("[data-passkey]") || document;
    return scope.querySelector(".st-passkey-error");
  }

  function showError(button, message) {
    var box = errorBox(button);
    if (!box) {
      return;
    }
    box.textContent = message;
    box.hidden = false;
    button.setAttribute("aria-describedby", box.id);
  }

  function run(button) {
    var c = ceremonies[button.getAttribute("data-passkey-action")];
    if (!c) {
      return;
    }
    var box = errorBox(button);
    if (box) {
      box.hidden = true;
      box.textContent = "";
    }
    button.disabled = true;
    post(c.begin).then(function (options) {
      if (c.create) {
        return navigator.credentials.create({ publicKey: PKC.parseCreationOptionsFromJSON(options.publicKey) });
      }
      return navigator.credentials.get({ publicKey: PKC.parseRequestOptionsFromJSON(options.publicKey) });
    }).then(function (credential) {
      if (!credential) {
        throw new Error("No passkey was used.");
      }
      var body = { credential: credential.toJSON() };
      if (c.create) {
        var field = document.getElementById(button.getAttribute("data-name"));
        body.name = (field && field.value.trim()) || "Passkey";
      }
      return post(c.finish, body);
    }).then(function () {
      window.location.assign(samePath(button.getAttribute("data-next")));
    }).catch(function (err) {
      button.disabled = false;
      if (err instanceof ApiError && err.status === 403 && button.hasAttribute("data-reauth")) {
        // The authentication is too old for this: confirm it first.
        window.location.assign(samePath(button.getAttribute("data-reauth")));
        return;
      }
      if (err && err.name === "NotAllowedError") {
        showError(button, "No passkey was used: the request was cancelled or timed out.");
        return;
      }
      if (err && err.name === "InvalidStateError") {
        showError(button, "This device already holds a passkey for your account here.");
        return;
      }
      showError(button, (err && err.message) || "The passkey could not be used.");
    });
  }

  document.querySelectorAll("[data-passkey]").forEach(function (el) {
    el.hidden = false;
  });
  document.querySelectorAll("[data-passkey-action]").forEach(function (button) {
    button.addEventListener("click", function () { run(button); });
  });
})();
