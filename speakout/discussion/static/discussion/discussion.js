/* Speakout discussion: progressive enhancement of the Leave a Reply form.
   Without this script everything still works through plain form posts. With it, the form moves
   under the reply being answered, posts without a reload and shows errors next to the fields. */
(function () {
  "use strict";

  function init(section) {
    var form = section.querySelector("[data-reply-form]");
    if (!form || !window.fetch || !window.FormData) return;
    var respond = section.querySelector("#respond");
    var home = respond.parentNode;
    var homeNext = respond.nextSibling;
    var title = respond.querySelector("#reply-title");
    var parentInput = form.querySelector("input[name=parent]");
    var body = form.querySelector("textarea[name=body]");
    var summary = form.querySelector("[data-form-errors]");
    var button = form.querySelector("button[type=submit]");
    var remember = form.querySelector("[data-remember]");
    var GUEST_DETAILS = "speakout-guest-details";
    var guestFields = ["name", "email", "website"];

    function guestInput(name) {
      return form.querySelector("input[name=" + name + "]");
    }

    // Offered only here (it needs this script), off until the reader ticks it; kept in this
    // browser's storage and never sent anywhere.
    if (remember) {
      remember.closest("[data-field]").hidden = false;
      var saved = null;
      try {
        saved = JSON.parse(localStorage.getItem(GUEST_DETAILS) || "null");
      } catch (error) {
        saved = null;
      }
      if (saved) {
        guestFields.forEach(function (name) {
          var input = guestInput(name);
          if (input && !input.value && typeof saved[name] === "string") input.value = saved[name];
        });
        remember.checked = true;
      }
      remember.addEventListener("change", function () {
        if (!remember.checked) forgetGuest();
      });
    }

    function forgetGuest() {
      try {
        localStorage.removeItem(GUEST_DETAILS);
      } catch (error) {
        /* storage blocked: nothing was kept */
      }
    }

    function rememberGuest() {
      if (!remember) return;
      if (!remember.checked) return forgetGuest();
      var details = {};
      guestFields.forEach(function (name) {
        var input = guestInput(name);
        if (input) details[name] = input.value;
      });
      try {
        localStorage.setItem(GUEST_DETAILS, JSON.stringify(details));
      } catch (error) {
        /* storage blocked or full: the reply is still sent */
      }
    }

    var status = document.createElement("p");
    status.className = "respond__status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    respond.insertBefore(status, respond.firstChild);

    function setTitle(name) {
      title.textContent = "";
      if (!name) {
        title.textContent = form.getAttribute("data-default-title");
        return;
      }
      title.appendChild(document.createTextNode(form.getAttribute("data-reply-title").replace("%(name)s", name) + " "));
      var cancel = document.createElement("a");
      cancel.href = "#respond";
      cancel.className = "respond__cancel";
      cancel.textContent = form.getAttribute("data-cancel-label");
      cancel.addEventListener("click", function (event) {
        event.preventDefault();
        reset();
      });
      title.appendChild(cancel);
    }

    function reset() {
      parentInput.value = "";
      home.insertBefore(respond, homeNext);
      setTitle("");
    }

    function clearErrors() {
      summary.textContent = "";
      Array.prototype.forEach.call(form.querySelectorAll(".field__error[data-js]"), function (node) {
        node.parentNode.removeChild(node);
      });
      Array.prototype.forEach.call(form.querySelectorAll(".field--error"), function (node) {
        node.classList.remove("field--error");
      });
      Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (node) {
        node.removeAttribute("aria-invalid");
        var kept = (node.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
          return id && id !== node.id + "-error";
        });
        if (kept.length) node.setAttribute("aria-describedby", kept.join(" "));
        else node.removeAttribute("aria-describedby");
      });
    }

    function showErrors(errors) {
      var general = [];
      Object.keys(errors || {}).forEach(function (name) {
        var messages = errors[name];
        var field = form.querySelector("[data-field='" + name + "']");
        if (!field) {
          general = general.concat(messages);
          return;
        }
        field.classList.add("field--error");
        var input = field.querySelector("input, textarea");
        var note = document.createElement("span");
        note.className = "field__error";
        note.setAttribute("data-js", "");
        note.id = (input ? input.id : name) + "-error";
        note.textContent = messages.join(" ");
        field.insertBefore(note, input ? input.nextSibling : null);
        if (input) {
          input.setAttribute("aria-invalid", "true");
          var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
            return id && id !== note.id;
          });
          input.setAttribute("aria-describedby", [note.id].concat(described).join(" "));
        }
        general.push(messages.join(" "));
      });
      var list = document.createElement("ul");
      list.className = "errorlist";
      general.forEach(function (message) {
        var item = document.createElement("li");
        item.textContent = message;
        list.appendChild(item);
      });
      summary.appendChild(list);
    }

    // The warnings the writer may overrule ("Post anyway"), as the page without this script
    // shows them (discussion/_confirm.html): one box per code the answer asks about, in the form
    // so that it is sent; a box stays (ticked or not) while the answer still asks for it.
    function showConfirm(confirm) {
      confirm = confirm || {};
      var shown = {};
      Array.prototype.forEach.call(form.querySelectorAll("[data-field=confirm]"), function (field) {
        var input = field.querySelector("input[name=confirm]");
        if (input && Object.prototype.hasOwnProperty.call(confirm, input.value)) shown[input.value] = true;
        else field.parentNode.removeChild(field);
      });
      var submitRow = button.parentNode;
      Object.keys(confirm).forEach(function (code) {
        if (shown[code]) return;
        var field = document.createElement("p");
        field.className = "field field--checkbox field--confirm";
        field.setAttribute("data-field", "confirm");
        var input = document.createElement("input");
        input.type = "checkbox";
        input.name = "confirm";
        input.value = code;
        input.id = "id_confirm_" + code;
        var label = document.createElement("label");
        label.htmlFor = input.id;
        label.textContent = confirm[code];
        field.appendChild(input);
        field.appendChild(document.createTextNode(" "));
        field.appendChild(label);
        submitRow.parentNode.insertBefore(field, submitRow);
      });
    }

    function insertReply(html, parentId) {
      var template = document.createElement("template");
      template.innerHTML = html.trim();
      var item = document.createElement("li");
      item.className = "replies__item";
      item.appendChild(template.content);
      var list = section.querySelector("[data-replies]");
      var parentItem = parentId && section.querySelector("[data-reply-item='" + parentId + "']");
      if (parentItem) {
        list = parentItem.querySelector(":scope > ol.replies--nested");
        if (!list) {
          list = document.createElement("ol");
          list.className = "replies replies--nested";
          parentItem.appendChild(list);
        }
      }
      list.appendChild(item);
      return item;
    }

    section.addEventListener("click", function (event) {
      var link = event.target.closest("[data-reply-to]");
      if (!link) return;
      event.preventDefault();
      var article = link.closest("article");
      parentInput.value = link.getAttribute("data-reply-to");
      article.parentNode.insertBefore(respond, article.nextSibling);
      setTitle(link.getAttribute("data-reply-name"));
      status.textContent = "";
      body.focus();
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      rememberGuest();
      clearErrors();
      status.textContent = "";
      button.disabled = true;
      var parentId = parentInput.value;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(function (data) {
            return { ok: response.ok, data: data };
          });
        })
        .then(function (result) {
          var data = result.data;
          if (data.form_token) form.querySelector("input[name=form_token]").value = data.form_token;
          showConfirm(result.ok ? null : data.confirm);
          if (!result.ok) {
            showErrors(data.errors);
            return;
          }
          var item = insertReply(data.html, parentId);
          body.value = "";
          var submission = form.querySelector("input[name=submission_id]");
          if (submission && window.crypto && crypto.randomUUID) submission.value = crypto.randomUUID().replace(/-/g, "");
          reset();
          status.textContent = section.getAttribute(data.outcome === "held" ? "data-held-message" : "data-posted-message");
          item.scrollIntoView({ block: "nearest" });
        })
        .catch(function () {
          showErrors({ __all__: [section.getAttribute("data-network-error")] });
        })
        .then(function () {
          button.disabled = false;
        });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-discussion]"), init);
})();
