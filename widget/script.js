/*
 * kommo-asterisk click-to-call widget for Kommo.
 *
 * A click on a phone number (the SDK's `add_action('phone', …)`) asks the connector's
 * `POST <connector_url>/api/v1/click-to-call` to place the call: the employee's phone
 * rings first, then the client is dialled. The request goes through the SDK's
 * `$authorizedAjax()`, which adds Kommo's disposable `X-Auth-Token` (a JWT signed
 * with the integration's secret key): no secret lives in the browser, and the
 * connector learns the Kommo user from the token.
 *
 * Feedback goes through Kommo's notification API (`APP.notifications.show_message` /
 * `show_message_error`), never `alert()`. Everything shown is HTML-escaped: the
 * number comes from CRM data and the connector's messages may echo it.
 *
 * Plain ES5 on purpose (Kommo loads it with RequireJS as an AMD module, untranspiled).
 * See widget/README.md for the SDK facts this relies on and their sources.
 */
define([], function () {
  'use strict';

  var ENDPOINT = '/api/v1/click-to-call';
  var REQUEST_TIMEOUT_MS = 20000;

  /** Connector error codes → message keys (i18n `messages.*`). */
  var CODE_MESSAGES = {
    ORIGINATE_UNKNOWN_USER: 'unknown_user',
    ORIGINATE_NO_EXTENSION: 'no_extension',
    ORIGINATE_BAD_NUMBER: 'bad_number',
    HTTP_BAD_REQUEST: 'bad_number',
    ORIGINATE_AMI_DOWN: 'pbx_down',
    ORIGINATE_TIMEOUT: 'timeout',
    HTTP_HANDLER_TIMEOUT: 'timeout',
    HTTP_AUTH_INVALID: 'auth',
    HTTP_AUTH_REQUIRED: 'auth',
    HTTP_FORBIDDEN: 'forbidden',
    HTTP_SHUTTING_DOWN: 'pbx_down',
    HTTP_NOT_FOUND: 'not_found'
  };

  /** When the connector's answer names no known code: by HTTP status. */
  function keyForStatus(status) {
    if (status === 0) return 'unreachable';
    if (status === 401) return 'auth';
    if (status === 403) return 'forbidden';
    if (status === 404) return 'not_found';
    if (status === 422 || status === 400) return 'bad_number';
    if (status === 503) return 'pbx_down';
    if (status === 504) return 'timeout';
    return 'failed';
  }

  function escapeHtml(value) {
    return String(value === undefined || value === null ? '' : value)
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;');
  }

  /** `https://pbx.example.com/` → `https://pbx.example.com`; anything but an http(s) URL → null. */
  function normalizeUrl(raw) {
    var url = String(raw === undefined || raw === null ? '' : raw).trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i.test(url)) return null;
    return url;
  }

  /** The connector's JSON answer of a failed request, whatever jQuery managed to parse. */
  function errorBody(xhr) {
    if (xhr && xhr.responseJSON && typeof xhr.responseJSON === 'object') return xhr.responseJSON;
    try {
      var parsed = JSON.parse(xhr && xhr.responseText ? xhr.responseText : 'null');
      return parsed && typeof parsed === 'object' ? parsed : {};
    } catch (e) {
      return {};
    }
  }

  return function () {
    var self = this;
    var inFlight = {};

    /** `messages.calling` from the localization file, `{name}` placeholders filled (escaped). */
    function t(key, vars) {
      var langs = self.langs || {};
      var section = langs.messages || {};
      var text = typeof section[key] === 'string' ? section[key] : key;
      return text.replace(/\{([a-z_]+)\}/g, function (all, name) {
        return vars && Object.prototype.hasOwnProperty.call(vars, name) ? escapeHtml(vars[name]) : all;
      });
    }

    function header() {
      var langs = self.langs || {};
      return escapeHtml(langs.widget && langs.widget.name ? langs.widget.name : 'Asterisk');
    }

    function now() {
      return Math.floor(Date.now() / 1000);
    }

    function info(text) {
      APP.notifications.show_message({ header: header(), text: text, date: now() });
    }

    function error(text) {
      APP.notifications.show_message_error({ header: header(), text: text, date: now() });
    }

    function connectorUrl() {
      var settings = typeof self.get_settings === 'function' ? self.get_settings() || {} : {};
      return normalizeUrl(settings.connector_url);
    }

    function explainFailure(xhr, phone, base) {
      var status = xhr && typeof xhr.status === 'number' ? xhr.status : 0;
      var body = errorBody(xhr);
      var err = body.error && typeof body.error === 'object' ? body.error : {};
      var code = typeof err.code === 'string' ? err.code : '';
      var key = CODE_MESSAGES[code] || keyForStatus(status);
      return t(key, { phone: phone, url: base, code: code || String(status), status: String(status) });
    }

    function clickToCall(rawPhone) {
      var phone = String(rawPhone === undefined || rawPhone === null ? '' : rawPhone).trim();
      if (phone === '') {
        error(t('no_number'));
        return;
      }
      var base = connectorUrl();
      if (base === null) {
        error(t('not_configured'));
        return;
      }
      if (window.location.protocol === 'https:' && /^http:/i.test(base)) {
        error(t('insecure_url', { url: base }));
        return;
      }
      if (inFlight[phone]) return; // a double click while the first request runs
      inFlight[phone] = true;
      self
        .$authorizedAjax({
          url: base + ENDPOINT,
          type: 'POST',
          contentType: 'application/json',
          dataType: 'json',
          data: JSON.stringify({ phone: phone }),
          timeout: REQUEST_TIMEOUT_MS
        })
        .done(function (answer) {
          delete inFlight[phone];
          var a = answer && typeof answer === 'object' ? answer : {};
          if (a.placed === true) {
            info(t('calling', { phone: a.number || phone, extension: a.extension || '' }));
          } else {
            error(t('failed', { phone: phone, code: '200' }));
          }
        })
        .fail(function (xhr) {
          delete inFlight[phone];
          error(explainFailure(xhr, phone, base));
        });
    }

    this.callbacks = {
      render: function () {
        return true;
      },
      init: function () {
        self.add_action('phone', function (data) {
          clickToCall(data && data.value);
        });
        return true;
      },
      bind_actions: function () {
        return true;
      },
      settings: function () {
        return true;
      },
      onSave: function () {
        return true;
      },
      destroy: function () {
        inFlight = {};
      }
    };
    return this;
  };
});
