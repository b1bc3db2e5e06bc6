// Progressive enhancement only: every page works without this script.
(function () {
  'use strict';
  var zh = (document.documentElement.lang || 'zh').indexOf('zh') === 0;

  function duration(min) {
    min = Math.max(0, Math.floor(min));
    var d = Math.floor(min / 1440), h = Math.floor((min % 1440) / 60), m = min % 60;
    var u = zh ? [' 天', ' 小时', ' 分'] : [' d', ' h', ' min'];
    if (d > 0) return d + u[0] + (h ? ' ' + h + u[1] : '');
    if (h > 0) return h + u[1] + (m ? ' ' + m + u[2] : '');
    return m + u[2];
  }

  // Countdowns tick without a reload.
  function tick() {
    var now = Date.now();
    document.querySelectorAll('.cd[data-due]').forEach(function (el) {
      var left = (Date.parse(el.getAttribute('data-due')) - now) / 60000;
      if (isNaN(left)) return;
      el.classList.remove('ok', 'soon', 'overdue');
      var row = el.closest('table.queue tr');
      if (row) row.classList.toggle('row-overdue', left < 0); // a task turning overdue is marked at once
      if (left < 0) { el.textContent = (zh ? '已逾期 ' : 'overdue by ') + duration(-left); el.classList.add('overdue'); }
      else { el.textContent = zh ? '剩余 ' + duration(left) : duration(left) + ' left'; el.classList.add(left < 240 ? 'soon' : 'ok'); }
    });
  }
  setInterval(tick, 30000);

  function busy() {
    var a = document.activeElement;
    return a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName);
  }

  // The queue refreshes itself when tasks arrive: a small JSON fingerprint of the open tasks is polled, and
  // only when it changes is the page fetched again and its table replaced (focus and scroll stay).
  var queue = document.getElementById('queue');
  if (queue) {
    var every = (parseInt(queue.getAttribute('data-refresh'), 10) || 20) * 1000;
    var version = queue.getAttribute('data-version');
    setInterval(function () {
      if (document.hidden || busy()) return;
      fetch('/tasks/state', { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(function (r) {
        return r.ok && !r.redirected ? r.json() : null;
      }).then(function (state) {
        if (!state || state.version === version) return null;
        version = state.version;
        return fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      }).then(function (r) {
        if (!r) return null;
        if (!r.ok || r.redirected) return null;
        return r.text();
      }).then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, 'text/html');
        ['queue', 'refresh-note'].forEach(function (id) {
          var fresh = doc.getElementById(id), old = document.getElementById(id);
          if (fresh && old && fresh.innerHTML !== old.innerHTML) old.innerHTML = fresh.innerHTML;
        });
        var tabs = doc.querySelector('.tabs'), oldTabs = document.querySelector('.tabs');
        if (tabs && oldTabs) oldTabs.innerHTML = tabs.innerHTML;
      }).catch(function () {});
    }, every);
  }

  // A case in a passing state (submitted, producing) reloads until it settles.
  var auto = document.querySelector('[data-autorefresh]');
  if (auto) {
    setTimeout(function () { if (!busy()) location.reload(); }, (parseInt(auto.getAttribute('data-autorefresh'), 10) || 3) * 1000);
  }

  // Fields that only apply to some seal kinds or requests are shown for those only.
  document.querySelectorAll('form[data-switch]').forEach(function (form) {
    var sel = form.querySelector('[name="' + form.getAttribute('data-switch') + '"]');
    if (!sel) return;
    function apply() {
      form.querySelectorAll('[data-show-for]').forEach(function (f) {
        var show = f.getAttribute('data-show-for').split(' ').indexOf(sel.value) >= 0;
        f.hidden = !show && !f.classList.contains('has-error');
      });
    }
    sel.addEventListener('change', apply);
    apply();
  });

  // Files: the size limit is checked before sending (and again on the server).
  document.querySelectorAll('input[type=file]').forEach(function (input) {
    input.addEventListener('change', function () {
      // data-max-bytes: a larger limit (premises video); 10 MiB otherwise.
      var max = parseInt(input.getAttribute('data-max-bytes'), 10) || 10 * 1024 * 1024, mib = Math.floor(max / 1048576);
      var big = Array.prototype.some.call(input.files || [], function (f) { return f.size > max; });
      input.setCustomValidity(big ? (zh ? '文件不能超过 ' + mib + ' MiB' : 'The file must be at most ' + mib + ' MiB') : '');
      if (big) input.reportValidity();
    });
  });

  // A return needs a reason: said beside the field at once.
  document.querySelectorAll('form.decision').forEach(function (form) {
    form.addEventListener('submit', function (e) {
      var btn = e.submitter, reason = form.querySelector('[name=reason]');
      if (btn && btn.value === 'return' && reason && !reason.value.trim()) {
        e.preventDefault();
        var msg = document.getElementById(reason.id + '-msg');
        if (msg) msg.textContent = zh ? '理由：退回必须说明理由' : 'Reason: a return needs a reason';
        reason.setAttribute('aria-invalid', 'true');
        reason.closest('.field').classList.add('has-error');
        reason.focus();
      }
    });
  });

  // The materials viewer marks the document shown.
  document.querySelectorAll('a[data-viewer]').forEach(function (a, i) {
    if (i === 0) a.parentElement.classList.add('active');
    a.addEventListener('click', function () {
      document.querySelectorAll('.mat-list li').forEach(function (li) { li.classList.remove('active'); });
      a.parentElement.classList.add('active');
    });
  });
})();
