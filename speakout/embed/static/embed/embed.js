/* Speakout's discussion on any page: <div data-speakout-thread></div> plus this script.
   No framework and no cookies: the guest token and a sign-in token live in this page's
   localStorage and travel in headers. Options are data-speakout-* attributes on the div
   (key, url, title, lang, theme, sort); links with data-speakout-count get their counts. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[src*='/embed.js']");
  if (!script || window.speakoutEmbedLoaded) return;
  window.speakoutEmbedLoaded = true;
  var base = script.src.replace(/\/embed\.js([?#].*)?$/, "");
  var home = new URL(base).origin;
  var api = base + "/embed/api";
  var serial = 0;

  function stored(name, value) {
    try {
      if (value === undefined) return localStorage.getItem("speakout-" + name) || "";
      if (value) localStorage.setItem("speakout-" + name, value);
      else localStorage.removeItem("speakout-" + name);
    } catch (e) {
      return "";
    }
  }

  // A guest's name, email and website, kept only when they tick the box (form: its elements; falsy: forget them).
  var DETAILS = ["name", "email", "website"];
  function keep(form) {
    DETAILS.forEach(function (name) { stored(name, form ? form[name].value : ""); });
  }

  function call(method, url, body) {
    var headers = {};
    if (stored("guest")) headers["X-Speakout-Guest"] = stored("guest");
    if (stored("user")) headers["X-Speakout-User"] = stored("user");
    if (body) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") el.textContent = value;
      else if (name.slice(0, 2) === "on") el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) el.append(child);
    });
    return el;
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)[sd]/g, function (_m, name) { return values[name]; });
  }

  var stringsByLang = {};
  function strings(lang) {
    if (!stringsByLang[lang]) {
      stringsByLang[lang] = call("GET", api + "/strings?lang=" + encodeURIComponent(lang)).then(function (r) {
        var t = r.data.strings;
        t.lang = r.data.lang;
        t.dir = r.data.dir;
        return t;
      });
    }
    return stringsByLang[lang];
  }

  function plural(t, lang, count) {
    // The template of the smallest sample count in the same plural category as this count.
    var rules = new Intl.PluralRules(lang), category = rules.select(count), samples = t.count_samples || {};
    var sample = Object.keys(samples).filter(function (n) { return rules.select(Number(n)) === category; })[0];
    var template = sample !== undefined ? samples[sample] : t[category === "one" ? "count_one" : "count_other"];
    return fill(template, { count: count });
  }

  function canonical() {
    var link = document.querySelector("link[rel=canonical]");
    var url = new URL(link ? link.href : location.href);
    url.hash = "";
    url.search = "";
    return url.href;
  }

  function Widget(host) {
    var d = host.dataset;
    this.n = ++serial;
    this.url = d.speakoutUrl || canonical();
    this.key = d.speakoutKey || new URL(this.url, location.href).pathname;
    this.title = d.speakoutTitle || document.title;
    this.lang = d.speakoutLang || document.documentElement.lang || navigator.language || "en";
    this.sort = d.speakoutSort || "";
    this.page = 1;
    this.parent = null;
    var root = host.attachShadow({ mode: "open" });
    root.append(h("link", { rel: "stylesheet", href: base + "/embed.css" }));
    this.box = h("div", { class: "so so--" + (d.speakoutTheme || "auto"), lang: this.lang });
    this.live = h("div", { class: "so-live", role: "status", "aria-live": "polite" });
    this.alert = h("div", { class: "so-alert", role: "alert" });
    // The host's own content (the "Read and reply on …" link) shows through this slot until the
    // thread has loaded, and again whenever it cannot load: a reader always has a way in.
    this.body = h("div", {}, [h("slot")]);
    this.box.append(this.live, this.body);
    root.append(this.box);
    var self = this;
    strings(this.lang).then(function (t) {
      self.t = t;
      // The language the site answered in, and its direction whatever the host page's.
      self.lang = self.box.lang = t.lang;
      self.box.dir = t.dir;
      self.load();
    });
  }

  Widget.prototype.id = function (name) {
    return "so" + this.n + "-" + name;
  };

  Widget.prototype.say = function (message, problem) {
    // Clearing first makes screen readers announce a message repeated word for word.
    var region = problem ? this.alert : this.live;
    region.textContent = "";
    setTimeout(function () { region.textContent = message; }, 50);
  };

  Widget.prototype.load = function (focusId) {
    var self = this;
    var query = "?key=" + encodeURIComponent(this.key) + "&page=" + this.page + (this.sort ? "&sort=" + this.sort : "");
    return call("GET", api + "/thread" + query).then(
      function (r) {
        if (!r.ok) throw new Error(r.status);
        if (stored("user") && !r.data.viewer.signed_in) stored("user", "");
        self.data = r.data;
        self.render();
        var target = focusId && self.box.querySelector("#" + self.id("reply-" + focusId));
        if (target) target.focus();
      }
    ).catch(function () {
      // A refused request, an error status or an answer that cannot be shown: say so, and give
      // the reader the host's own link again.
      self.body.replaceChildren(h("p", { class: "so-error", text: self.t.load_error }), h("slot"));
    });
  };

  Widget.prototype.render = function () {
    var t = this.t, data = this.data, self = this;
    var count = data.thread.count;
    var parts = [h("h2", { class: "so-count", id: this.id("heading"), text: plural(t, this.lang, count) })];
    if (data.replies.length) {
      var newest = data.page.sort === "newest";
      parts.push(h("p", { class: "so-order" }, [
        this.button(t.oldest, function () { self.sort = "oldest"; self.load(); }, { "aria-pressed": String(!newest) }),
        this.button(t.newest, function () { self.sort = "newest"; self.load(); }, { "aria-pressed": String(newest) }),
      ]));
      parts.push(this.list(data.replies));
    } else if (data.thread.accepts_replies) {
      parts.push(h("p", { class: "so-empty", text: t.empty }));
    }
    if (data.page.count > 1) parts.push(this.pager());
    parts.push(this.alert);
    parts.push(data.thread.accepts_replies ? this.form() : h("p", { class: "so-closed", text: t.closed }));
    this.body.replaceChildren(h("section", { "aria-labelledby": this.id("heading") }, parts));
  };

  Widget.prototype.button = function (label, onclick, attrs) {
    var button = h("button", Object.assign({ type: "button", class: "so-link", text: label }, attrs || {}));
    button.addEventListener("click", onclick);
    return button;
  };

  Widget.prototype.pager = function () {
    var self = this, t = this.t, page = this.data.page;
    function go(number) { return function () { self.page = number; self.load(); }; }
    return h("nav", { class: "so-pages" }, [
      page.number > 1 ? this.button(t.earlier, go(page.number - 1)) : null,
      h("span", { text: fill(t.page, { number: page.number, total: page.count }) }),
      page.number < page.count ? this.button(t.later, go(page.number + 1)) : null,
    ]);
  };

  Widget.prototype.list = function (replies) {
    var self = this;
    return h("ol", { class: "so-replies" }, replies.map(function (reply) {
      return h("li", {}, [self.reply(reply), reply.children.length ? self.list(reply.children) : null]);
    }));
  };

  Widget.prototype.reply = function (reply) {
    var t = this.t, self = this, held = reply.status === "held";
    var name = reply.author_website
      ? h("a", { href: reply.author_website, rel: "nofollow ugc noopener", text: reply.author_name })
      : document.createTextNode(reply.author_name);
    var when = new Date(reply.created_at);
    var text = h("div", { class: "so-text", dir: "auto" });
    text.innerHTML = reply.body_html; // sanitised by the server when the reply was written
    var article = h("article", {
      class: "so-reply" + (held ? " so-reply--held" : ""),
      id: this.id("reply-" + reply.id),
      tabindex: "-1",
      "aria-labelledby": this.id("author-" + reply.id),
    });
    var actions = h("footer", { class: "so-actions" });
    if (this.data.thread.accepts_replies && !held) {
      actions.append(this.button(t.reply, function () { self.replyTo(reply, article); }));
    }
    if (reply.can_change) {
      actions.append(
        this.button(t.edit, function () { self.edit(reply, article, text); }),
        this.button(t.delete, function () { self.remove(reply, actions); })
      );
    }
    if (!held && !reply.own) actions.append(this.button(t.report, function () { self.report(reply, actions); }));
    article.append(
      h("header", { class: "so-head" }, [
        h("span", { class: "so-avatar", "aria-hidden": "true", text: reply.author_name.slice(0, 1).toUpperCase() }),
        h("span", { class: "so-author", dir: "auto", id: this.id("author-" + reply.id) }, [name]),
        reply.in_reply_to ? h("span", { class: "so-context", text: fill(t.in_reply_to, { name: reply.in_reply_to }) }) : null,
        h("time", { datetime: reply.created_at, text: when.toLocaleString(this.lang, { dateStyle: "medium", timeStyle: "short" }) }),
        reply.edited_at ? h("span", { class: "so-edited", text: t.edited }) : null,
      ]),
      held ? h("p", { class: "so-held" }, [h("strong", { text: t.held }), " " + t.held_note]) : null,
      text,
      actions
    );
    return article;
  };

  Widget.prototype.field = function (name, label, input, help) {
    input.id = this.id(name);
    input.name = name;
    var error = h("span", { class: "so-field-error", id: this.id(name + "-error") });
    var helpText = help ? h("span", { class: "so-help", id: this.id(name + "-help"), text: help }) : null;
    input.setAttribute("aria-describedby", this.id(name + "-error") + (help ? " " + this.id(name + "-help") : ""));
    return h("p", { class: "so-field", "data-field": name }, [h("label", { for: input.id, text: label }), input, error, helpText]);
  };

  Widget.prototype.form = function () {
    var t = this.t, self = this, viewer = this.data.viewer;
    var required = this.data.require_name_email;
    var title = h("h3", { class: "so-form-title", id: this.id("form-title"), text: t.leave });
    var fields = [];
    if (viewer.signed_in) {
      fields.push(h("p", { class: "so-identity" }, [
        fill(t.commenting_as, { name: viewer.name }) + " ",
        this.button(t.sign_out, function () { stored("user", ""); self.load(); }),
      ]));
    } else {
      fields.push(
        h("p", { class: "so-signin" }, [this.button(t.sign_in, function () { self.signIn(); })]),
        this.field("name", t.name, h("input", { type: "text", maxlength: "100", autocomplete: "name", required: required })),
        this.field("email", t.email, h("input", { type: "email", autocomplete: "email", required: required }), t.email_help),
        this.field("website", t.website, h("input", { type: "url", autocomplete: "url" })),
        // Off unless ticked: any script on the embedding page can read its localStorage.
        h("p", { class: "so-check" }, [h("input", { type: "checkbox", id: this.id("remember"), name: "remember", onchange: function () { if (!this.checked) keep(""); } }), h("label", { for: this.id("remember"), text: t.remember })])
      );
    }
    fields.push(
      this.field("body", t.body, h("textarea", { rows: "5", required: true, dir: "auto" })),
      h("p", { class: "so-check" }, [h("input", { type: "checkbox", id: this.id("notify_replies"), name: "notify_replies" }), h("label", { for: this.id("notify_replies"), text: t.notify_replies })]),
      h("p", { class: "so-check" }, [h("input", { type: "checkbox", id: this.id("notify_posts"), name: "notify_posts" }), h("label", { for: this.id("notify_posts"), text: t.notify_posts })]),
      // About the writer's own reply: ticked for a signed-in reader whose address is verified.
      h("p", { class: "so-check" }, [h("input", { type: "checkbox", id: this.id("notify_answers"), name: "notify_answers", checked: !!viewer.wishes_by_default }), h("label", { for: this.id("notify_answers"), text: t.notify_answers })]),
      h("p", { class: "so-check" }, [h("input", { type: "checkbox", id: this.id("notify_outcome"), name: "notify_outcome", checked: !!viewer.wishes_by_default }), h("label", { for: this.id("notify_outcome"), text: t.notify_outcome })]),
      // The pile-on brake: replies to this one from people new here wait for a moderator.
      h("p", { class: "so-check" }, [h("input", { type: "checkbox", id: this.id("approved_repliers_only"), name: "approved_repliers_only", "aria-describedby": this.id("approved_repliers_only-help") }), h("label", { for: this.id("approved_repliers_only"), text: t.approved_repliers_only }), h("span", { class: "so-help", id: this.id("approved_repliers_only-help"), text: t.approved_repliers_only_help })]),
      h("p", { class: "so-trap", hidden: true }, [h("label", { for: this.id("homepage"), text: t.honeypot }), h("input", { id: this.id("homepage"), name: "homepage", tabindex: "-1", autocomplete: "off" })]),
      h("p", {}, [h("button", { type: "submit", class: "so-submit", text: t.submit })])
    );
    var form = h("form", { class: "so-form", "aria-labelledby": this.id("form-title"), novalidate: true }, fields);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.send(form);
    });
    this.formEl = form;
    this.formTitle = title;
    this.respond = h("div", { class: "so-respond" }, [title, form]);
    this.parent = null;
    if (!viewer.signed_in) DETAILS.forEach(function (name) {
      form.elements[name].value = stored(name);
      if (stored(name)) form.elements.remember.checked = true;
    });
    return this.respond;
  };

  Widget.prototype.replyTo = function (reply, article) {
    var self = this;
    this.parent = reply.id;
    this.formTitle.replaceChildren(
      fill(this.t.leave_to, { name: reply.author_name }) + " ",
      this.button(this.t.cancel_reply, function () {
        self.parent = null;
        self.formTitle.textContent = self.t.leave;
        self.body.querySelector("section").append(self.respond);
      })
    );
    article.after(this.respond);
    this.formEl.elements.body.focus();
  };

  Widget.prototype.showErrors = function (form, errors) {
    var general = [];
    form.querySelectorAll(".so-field-error").forEach(function (el) { el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    Object.keys(errors || {}).forEach(function (name) {
      var input = form.elements[name];
      if (input && input.id) {
        input.setAttribute("aria-invalid", "true");
        form.querySelector("#" + input.id + "-error").textContent = errors[name].join(" ");
      } else {
        general = general.concat(errors[name]);
      }
    });
    var all = general.concat(
      Object.keys(errors || {}).filter(function (n) { return form.elements[n]; }).map(function (n) { return errors[n].join(" "); })
    );
    this.say(all.join(" "), true);
    var first = form.querySelector("[aria-invalid]");
    if (first) first.focus();
  };

  // Warnings the writer may overrule (the API's "confirm": {code: label}): one box each before
  // the submit button, as on the hosted form; a box stays while the answer still asks for it.
  Widget.prototype.showConfirm = function (form, confirm) {
    var self = this, shown = {};
    confirm = confirm || {};
    form.querySelectorAll("[data-field=confirm]").forEach(function (field) {
      var code = field.querySelector("input").value;
      if (Object.prototype.hasOwnProperty.call(confirm, code)) shown[code] = true;
      else field.remove();
    });
    var submitRow = form.querySelector(".so-submit").parentNode;
    Object.keys(confirm).forEach(function (code) {
      if (shown[code]) return;
      var id = self.id("confirm_" + code);
      submitRow.before(h("p", { class: "so-check", "data-field": "confirm" }, [
        h("input", { type: "checkbox", id: id, name: "confirm", value: code }),
        h("label", { for: id, text: confirm[code] }),
      ]));
    });
  };

  Widget.prototype.send = function (form) {
    var self = this, t = this.t, el = form.elements, button = form.querySelector(".so-submit");
    this.submission = this.submission || Math.random().toString(36).slice(2) + Date.now().toString(36);
    var payload = {
      parent: this.parent,
      body: el.body.value,
      form_token: this.data.form_token,
      submission_id: this.submission,
      homepage: el.homepage.value,
      notify_replies: el.notify_replies.checked,
      notify_posts: el.notify_posts.checked,
      notify_answers: el.notify_answers.checked,
      notify_outcome: el.notify_outcome.checked,
      approved_repliers_only: el.approved_repliers_only.checked,
      confirm: Array.prototype.map.call(form.querySelectorAll("input[name=confirm]:checked"), function (box) { return box.value; }),
      url: this.url,
      title: this.title,
    };
    if (el.name) {
      DETAILS.forEach(function (name) { payload[name] = el[name].value; });
      keep(el.remember.checked && el);
    }
    button.disabled = true;
    button.textContent = t.sending;
    call("POST", api + "/replies?key=" + encodeURIComponent(this.key), payload).then(
      function (r) {
        button.disabled = false;
        button.textContent = t.submit;
        if (r.data.form_token) self.data.form_token = r.data.form_token;
        self.showConfirm(form, r.ok ? null : r.data.confirm);
        if (!r.ok) return self.showErrors(form, r.data.errors);
        self.submission = null;
        if (r.data.guest_token) stored("guest", r.data.guest_token);
        self.say(r.data.outcome === "held" ? t.held_posted : t.posted);
        self.load(r.data.reply.id);
      },
      function () {
        button.disabled = false;
        button.textContent = t.submit;
        self.say(t.network, true);
      }
    );
  };

  Widget.prototype.edit = function (reply, article, text) {
    var self = this, t = this.t;
    var area = h("textarea", { rows: "5", dir: "auto", id: this.id("edit-" + reply.id), "aria-label": t.edit });
    area.value = reply.body || "";
    var form = h("form", { class: "so-edit" }, [area, h("p", {}, [
      h("button", { type: "submit", class: "so-submit", text: t.save }),
      " ",
      this.button(t.cancel, function () { form.replaceWith(text); }),
    ])]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      call("PATCH", api + "/replies/" + reply.id, { body: area.value }).then(function (r) {
        if (!r.ok) return self.say(Object.values(r.data.errors || {}).join(" "), true);
        self.say(t.saved);
        self.load(reply.id);
      }, function () { self.say(t.network, true); });
    });
    text.replaceWith(form);
    area.focus();
  };

  Widget.prototype.remove = function (reply, actions) {
    var self = this, t = this.t;
    var confirm = h("p", { class: "so-confirm" }, [t.confirm_delete + " "]);
    confirm.append(
      this.button(t.delete, function () {
        call("DELETE", api + "/replies/" + reply.id).then(function (r) {
          if (!r.ok) return self.say(Object.values(r.data.errors || {}).join(" "), true);
          self.say(t.deleted);
          self.load();
        }, function () { self.say(t.network, true); });
      }),
      " ",
      this.button(t.cancel, function () { confirm.remove(); })
    );
    actions.after(confirm);
    confirm.querySelector("button").focus();
  };

  Widget.prototype.report = function (reply, actions) {
    var self = this, t = this.t;
    var legend = h("legend", { text: t.report_title });
    var choices = t.reasons.map(function (pair, i) {
      var id = self.id("reason-" + reply.id + "-" + i);
      return h("label", { for: id, class: "so-choice" }, [h("input", { type: "radio", name: "reason", value: pair[0], id: id, required: true }), " " + pair[1]]);
    });
    var note = h("textarea", { name: "note", rows: "2", dir: "auto", id: this.id("note-" + reply.id) });
    var form = h("form", { class: "so-report" }, [
      h("fieldset", {}, [legend].concat(choices)),
      h("p", {}, [h("label", { for: note.id, text: t.report_note }), note]),
      h("p", {}, [h("button", { type: "submit", class: "so-submit", text: t.send_report }), " ", this.button(t.cancel, function () { form.remove(); })]),
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var chosen = form.querySelector("input[name=reason]:checked");
      call("POST", base + "/api/replies/" + reply.id + "/reports", { reason: chosen ? chosen.value : "", note: note.value }).then(function (r) {
        if (!r.ok) return self.say(Object.values(r.data.errors || {}).join(" "), true);
        var done = h("p", { class: "so-done", text: t.reported });
        form.replaceWith(done);
        self.say(t.reported);
      }, function () { self.say(t.network, true); });
    });
    actions.after(form);
    form.querySelector("input").focus();
  };

  Widget.prototype.signIn = function () {
    var self = this;
    window.open(base + "/embed/signin/?origin=" + encodeURIComponent(location.origin), "speakout-signin", "width=520,height=640");
    window.addEventListener("message", function listen(event) {
      if (event.origin !== home || !event.data || event.data.speakout !== "signin") return;
      window.removeEventListener("message", listen);
      stored("user", event.data.token);
      self.load();
    });
  };

  function counts() {
    var links = Array.prototype.slice.call(document.querySelectorAll("[data-speakout-count]"));
    if (!links.length) return;
    var keyOf = function (el) { return el.dataset.speakoutCount || new URL(el.href || location.href, location.href).pathname; };
    var keys = links.map(keyOf).filter(function (k, i, all) { return all.indexOf(k) === i; });
    var lang = encodeURIComponent(document.documentElement.lang || navigator.language || "en");
    var query = keys.map(function (k) { return "key=" + encodeURIComponent(k); }).join("&");
    call("GET", api + "/counts?" + query + "&lang=" + lang).then(function (r) {
      if (!r.ok) return;
      links.forEach(function (el) {
        var text = r.data.text[keyOf(el)];
        if (text) el.textContent = text;
      });
    });
  }

  function start() {
    document.querySelectorAll("[data-speakout-thread]").forEach(function (host) {
      if (!host.shadowRoot) new Widget(host);
    });
    counts();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
