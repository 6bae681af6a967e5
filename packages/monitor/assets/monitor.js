/* The monitor's page script: actions, live regions, the workflow graph's live colours, copy buttons.
 * Served by the monitor itself (embedded at build time by scripts/embed-assets.ts). It never puts
 * data into the page as HTML: server-rendered fragments (escaped on the server) replace regions,
 * and everything else is set with textContent or class names.
 */
/* global document, window, location, fetch, EventSource, navigator, URLSearchParams, FormData, setTimeout, clearTimeout, setInterval, CustomEvent, HTMLFormElement, CSS */
(function () {
  'use strict';
  var body = document.body;
  var prefix = body.dataset.prefix || '';
  var csrf = body.dataset.csrf || '';

  // ------------------------------------------------------------------ toast
  var toastTimer = null;
  function toast(text, kind) {
    var el = document.getElementById('toast');
    if (!el) return;
    el.textContent = text;
    el.className = kind || '';
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 5000);
  }

  // ------------------------------------------------------------------ times in the reader's zone
  function localTimes(root) {
    var today = new Date().toDateString();
    root.querySelectorAll('time[datetime]').forEach(function (el) {
      var d = new Date(el.getAttribute('datetime'));
      if (isNaN(d.getTime())) return;
      el.textContent = d.toDateString() === today ? d.toLocaleTimeString() : d.toLocaleString();
    });
  }

  // ------------------------------------------------------------------ live regions
  function refreshFragment(id) {
    var el = document.getElementById(id);
    if (!el) return Promise.resolve();
    return fetch(location.href, { headers: { 'X-Fragment': id }, credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error(r.status + ' ' + r.statusText); return r.text(); })
      .then(function (text) {
        el.innerHTML = text; // server-rendered, escaped on the server
        localTimes(el);
        el.dispatchEvent(new CustomEvent('refreshed', { bubbles: true }));
      })
      .catch(function () { /* the next tick tries again */ });
  }

  function startLiveRegions() {
    document.querySelectorAll('[data-live]').forEach(function (el) {
      var every = Number(el.dataset.live) || 3000;
      setInterval(function () {
        if (document.hidden) return;
        var toggle = document.getElementById('live-toggle');
        if (toggle && !toggle.checked) return;
        refreshFragment(el.id);
      }, every);
    });
  }

  // ------------------------------------------------------------------ actions (POST with the CSRF token)
  function act(form) {
    var question = form.dataset.confirm;
    if (question && !window.confirm(question)) return;
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value !== '') params.append(key, String(value)); });
    var query = params.toString();
    var url = prefix + form.dataset.api + (query ? '?' + query : '');
    var buttons = form.querySelectorAll('button');
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(url, { method: 'POST', headers: { 'X-CSRF-Token': csrf, Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
      })
      .then(function (res) {
        var text = res.data.message || res.data.error || (res.ok ? 'Done' : 'Failed (' + res.status + ')');
        toast(text, res.ok ? 'ok' : 'error');
        if (!res.ok) return;
        var after = form.dataset.after || '';
        if (after === 'reload') setTimeout(function () { location.reload(); }, 400);
        else if (after.indexOf('go:') === 0 && res.data[after.slice(3)]) location.href = prefix + '/task/' + encodeURIComponent(res.data[after.slice(3)]);
        else if (after.indexOf('refresh:') === 0) refreshFragment(after.slice(8));
      })
      .catch(function (error) { toast('Request failed: ' + error.message, 'error'); })
      .then(function () { buttons.forEach(function (b) { b.disabled = false; }); });
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.api) return;
    event.preventDefault();
    act(form);
  });

  // Filters submit as soon as a choice changes.
  document.addEventListener('change', function (event) {
    var el = event.target;
    if (el && el.dataset && el.dataset.autosubmit !== undefined && el.form) el.form.requestSubmit();
  });

  // ------------------------------------------------------------------ copy buttons
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-copy]');
    if (!button) return;
    var source = document.querySelector(button.dataset.copy);
    if (!source) return;
    var text = source.textContent || '';
    var done = function () { button.textContent = 'Copied'; setTimeout(function () { button.textContent = 'Copy'; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(source, done); });
    else fallbackCopy(source, done);
  });

  function fallbackCopy(source, done) {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try { document.execCommand('copy'); done(); } catch { toast('Select the text and copy it', 'error'); }
  }

  // ------------------------------------------------------------------ a workflow's live states
  var STATES = ['PENDING', 'RECEIVED', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'];

  function paint(el, state) {
    STATES.forEach(function (s) { el.classList.remove('state-' + s); });
    el.classList.add('state-' + state);
    el.setAttribute('data-state', state);
    var label = el.querySelector('.state-label');
    if (label) label.textContent = state;
    else if (el.classList.contains('badge')) el.textContent = state;
  }

  function syncLabels() {
    // The details fragment carries each group's progress label; the graph shows it too.
    document.querySelectorAll('[data-label-for]').forEach(function (row) {
      var target = document.querySelector('[data-label-id="' + CSS.escape(row.dataset.labelFor) + '"]');
      if (target) target.textContent = row.dataset.label;
    });
  }

  function followWorkflow(id) {
    var pending = null;
    var refreshDetails = function () {
      if (pending) return;
      pending = setTimeout(function () {
        pending = null;
        refreshFragment('details').then(syncLabels);
      }, 700);
    };
    var source = new EventSource(prefix + '/api/workflow/' + encodeURIComponent(id) + '/events');
    source.addEventListener('node', function (event) {
      var change = JSON.parse(event.data);
      document.querySelectorAll('[data-node="' + CSS.escape(change.id) + '"]').forEach(function (el) { paint(el, change.state); });
      refreshDetails();
    });
    source.addEventListener('update', refreshDetails);
    source.addEventListener('workflow', function (event) {
      var state = JSON.parse(event.data).state;
      document.querySelectorAll('[data-workflow-state]').forEach(function (el) { paint(el, state); });
    });
    source.addEventListener('done', function () {
      source.close();
      refreshDetails();
      var live = document.getElementById('live-status');
      if (live) live.textContent = 'finished';
    });
    source.onerror = function () {
      var live = document.getElementById('live-status');
      if (live) live.textContent = 'reconnecting…';
    };
    source.onopen = function () {
      var live = document.getElementById('live-status');
      if (live) live.textContent = 'live';
    };
  }

  function followTask(id) {
    var source = new EventSource(prefix + '/api/workflow/' + encodeURIComponent(id) + '/events');
    source.addEventListener('node', function (event) {
      var change = JSON.parse(event.data);
      if (change.id !== id) return;
      document.querySelectorAll('[data-node="' + CSS.escape(id) + '"]').forEach(function (el) { paint(el, change.state); });
      if (change.state === 'SUCCESS' || change.state === 'FAILURE' || change.state === 'REVOKED' || change.state === 'RETRY') {
        refreshFragment('task-main');
      }
    });
    source.addEventListener('done', function () { source.close(); refreshFragment('task-main'); });
  }

  // ------------------------------------------------------------------ start
  localTimes(document);
  startLiveRegions();
  if (body.dataset.workflow) followWorkflow(body.dataset.workflow);
  if (body.dataset.liveTask) followTask(body.dataset.liveTask);
  var live = document.getElementById('live-status');
  if (live && !body.dataset.workflow) live.textContent = 'live';
})();
