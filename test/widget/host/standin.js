/*
 * A stand-in for the few parts of Kommo's web app that widget/script.js uses, and
 * nothing more (each documented by Kommo; widget/README.md has the sources):
 *
 * - RequireJS's `define([], factory)`: script.js is an AMD module. Kommo loads it with
 *   RequireJS; here the factory is captured and called once. A dependency list is
 *   refused, because this page provides no modules.
 * - The widget object: Kommo creates the widget from the factory's constructor with its
 *   own Widget object underneath; here the prototype holds exactly
 *   `get_settings()`, `langs` (the i18n file of the user's language), `add_action(type,
 *   fn)` and `$authorizedAjax(options)`. Then `render`, `init`, `bind_actions` run, in
 *   Kommo's order; `settings` and `onSave` when the settings modal opens and saves.
 * - `$authorizedAjax`: Kommo's server mints a disposable JWT for the current user and
 *   the request goes out with `X-Auth-Token`; the answer is a jQuery-Deferred-like
 *   object. Here the host server mints the token (POST /__kommo/token, HS256 with the
 *   integration secret, Kommo's claims) and an XMLHttpRequest carries it; the promise
 *   has `done`/`fail`/`always`, and `fail` gets a jqXHR-like `{status, responseText,
 *   responseJSON}` (status 0 when the browser blocked or could not connect).
 * - `APP.notifications.show_message` / `show_message_error`: `header` and `text` are
 *   required (an error is thrown otherwise) and `text` is rendered as HTML, as Kommo
 *   does, so an unescaped value would show here as markup.
 * - A phone number in a card: a click calls the function registered with
 *   `add_action('phone', fn)` with `{value: <the number>}`.
 */
(function () {
  'use strict';
  var query = new URLSearchParams(window.location.search);
  var lang = query.get('lang') || 'en';
  var userId = query.get('user') || '';
  var factory = null;
  var settings = {};
  if (query.get('connector_url') !== null) settings.connector_url = query.get('connector_url');
  var actions = {};
  var widget = null;
  var manifest = null;
  var langs = null;

  window.__notifications = [];
  window.__requests = [];

  window.define = function (deps, fn) {
    if (typeof deps === 'function') {
      fn = deps;
      deps = [];
    }
    if (deps.length) throw new Error('stand-in: script.js requires modules this page does not provide: ' + deps.join(', '));
    factory = fn;
  };
  window.define.amd = {};

  function show(kind, params) {
    if (!params || typeof params.header !== 'string' || typeof params.text !== 'string' || params.header === '' || params.text === '') {
      throw new Error('APP.notifications: header and text are required');
    }
    window.__notifications.push({ kind: kind, header: params.header, text: params.text, date: params.date });
    var box = document.createElement('div');
    box.className = 'notification notification--' + kind;
    box.innerHTML = '<div class="notification__header">' + params.header + '</div><div class="notification__text">' + params.text + '</div>';
    document.getElementById('notifications').appendChild(box);
  }
  window.APP = {
    notifications: {
      show_message: function (params) { show('info', params); },
      show_message_error: function (params) { show('error', params); }
    }
  };

  function deferred() {
    var state = 'pending';
    var args = [];
    var handlers = { resolved: [], rejected: [] };
    var promise = {
      done: function (fn) { return on('resolved', fn); },
      fail: function (fn) { return on('rejected', fn); },
      always: function (fn) { on('resolved', fn); return on('rejected', fn); }
    };
    function on(which, fn) {
      if (state === which) fn.apply(null, args);
      else if (state === 'pending') handlers[which].push(fn);
      return promise;
    }
    function settle(which) {
      return function () {
        if (state !== 'pending') return;
        state = which;
        args = Array.prototype.slice.call(arguments);
        handlers[which].forEach(function (fn) { fn.apply(null, args); });
      };
    }
    return { promise: promise, resolve: settle('resolved'), reject: settle('rejected') };
  }

  var sdk = {
    get_settings: function () {
      return JSON.parse(JSON.stringify(settings));
    },
    add_action: function (type, fn) {
      if (type !== 'phone' && type !== 'email') throw new Error('add_action: type must be phone or email');
      if (typeof fn !== 'function') throw new Error('add_action: the action must be a function');
      actions[type] = fn;
    },
    $authorizedAjax: function (options) {
      var d = deferred();
      var method = String(options.type || options.method || 'GET').toUpperCase();
      var record = { url: options.url, method: method, body: options.data, token: false };
      window.__requests.push(record);
      fetch('/__kommo/token?user=' + encodeURIComponent(userId), { method: 'POST' })
        .then(function (r) {
          if (!r.ok) throw new Error('token endpoint answered ' + r.status);
          return r.text();
        })
        .then(function (token) {
          record.token = true;
          var xhr = new XMLHttpRequest();
          xhr.open(method, options.url, true);
          if (options.contentType) xhr.setRequestHeader('Content-Type', options.contentType);
          xhr.setRequestHeader('X-Auth-Token', token);
          if (options.timeout) xhr.timeout = options.timeout;
          var jq = function () {
            var out = { status: xhr.status, responseText: xhr.responseText };
            try { out.responseJSON = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
            return out;
          };
          xhr.onload = function () {
            var r = jq();
            record.status = r.status;
            if (r.status >= 200 && r.status < 300) {
              if (options.dataType === 'json' && r.responseJSON === undefined) d.reject(r, 'parsererror', '');
              else d.resolve(options.dataType === 'json' ? r.responseJSON : r.responseText, 'success', r);
            } else {
              d.reject(r, 'error', xhr.statusText);
            }
          };
          xhr.onerror = function () { record.status = 0; d.reject({ status: 0, responseText: '' }, 'error', ''); };
          xhr.ontimeout = function () { record.status = 0; d.reject({ status: 0, responseText: '' }, 'timeout', ''); };
          xhr.send(options.data === undefined ? null : options.data);
        })
        .catch(function (err) {
          record.status = 0;
          d.reject({ status: 0, responseText: String(err) }, 'error', String(err));
        });
      return d.promise;
    }
  };

  function text(key) {
    return key.split('.').reduce(function (node, part) { return node && node[part]; }, langs) || key;
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  // The settings modal, built from manifest.json and the i18n file as Kommo builds it.
  function openSettings() {
    var modal = document.getElementById('settings');
    var fields = Object.keys(manifest.settings || {}).map(function (key) {
      var s = manifest.settings[key];
      if (s.type !== 'text' && s.type !== 'pass') throw new Error('stand-in: setting type ' + s.type + ' is not implemented');
      return '<label class="field"><span>' + escapeHtml(text(s.name)) + (s.required ? ' *' : '') + '</span>' +
        '<input name="' + escapeHtml(key) + '" type="' + (s.type === 'pass' ? 'password' : 'text') + '" value="' + escapeHtml(settings[key] || '') + '"></label>';
    }).join('');
    modal.querySelector('.modal__body').innerHTML =
      '<div class="modal__head"><img src="/widget/images/logo_main.png" alt="" width="200" height="136"><div><h2>' + escapeHtml(text(manifest.widget.name)) + '</h2>' +
      '<p class="modal__short">' + escapeHtml(text(manifest.widget.short_description)) + '</p></div></div>' +
      '<p class="modal__description">' + escapeHtml(text(manifest.widget.description)) + '</p>' + fields;
    modal.hidden = false;
    widget.callbacks.settings(); // Kommo passes the modal; script.js reads nothing from it
  }

  function saveSettings() {
    var modal = document.getElementById('settings');
    var next = {};
    var missing = [];
    Array.prototype.forEach.call(modal.querySelectorAll('input[name]'), function (input) {
      next[input.name] = input.value;
      if (manifest.settings[input.name].required && input.value.trim() === '') missing.push(input.name);
    });
    if (missing.length) return;
    if (widget.callbacks.onSave() === false) return; // script.js reads no argument
    settings = next;
    modal.hidden = true;
  }

  function callPhone(event) {
    event.preventDefault();
    if (!actions.phone) throw new Error('no phone action registered');
    actions.phone({ value: event.currentTarget.getAttribute('data-value') });
  }

  function load(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error(url + ': ' + r.status);
      return r.json();
    });
  }

  var domReady = new Promise(function (resolve) {
    if (document.readyState !== 'loading') resolve();
    else document.addEventListener('DOMContentLoaded', function () { resolve(); });
  });

  Promise.all([load('/widget/manifest.json'), load('/widget/i18n/' + encodeURIComponent(lang) + '.json'), domReady])
    .then(function (loaded) {
      manifest = loaded[0];
      langs = loaded[1];
      return new Promise(function (resolve, reject) {
        var tag = document.createElement('script');
        tag.src = '/widget/script.js';
        tag.onload = resolve;
        tag.onerror = function () { reject(new Error('script.js did not load')); };
        document.head.appendChild(tag);
      });
    })
    .then(function () {
      if (!factory) throw new Error('script.js did not call define()');
      var Widget = factory();
      var proto = Object.create(sdk);
      proto.langs = langs;
      Widget.prototype = proto;
      widget = new Widget();
      ['render', 'init', 'bind_actions'].forEach(function (name) {
        if (widget.callbacks[name]() !== true) throw new Error('callbacks.' + name + ' did not return true');
      });
      Array.prototype.forEach.call(document.querySelectorAll('[data-phone]'), function (a) {
        a.addEventListener('click', callPhone);
      });
      document.getElementById('open-settings').addEventListener('click', openSettings);
      document.getElementById('save-settings').addEventListener('click', saveSettings);
      window.__ready = true;
    })
    .catch(function (err) {
      window.__loadError = String(err && err.stack ? err.stack : err);
    });
})();
