'use strict';
// The site view: jobs table with filters kept in the URL, stats charts, live updates from /v1/stream.
(() => {
  const { config, el, time, number, percent, duration, badge } = WM;
  const form = document.getElementById('filters');
  const tbody = document.querySelector('#jobs tbody');
  const base = config.base;
  document.getElementById('home').href = `${base}/`;
  document.getElementById('title').textContent = config.site ? `site ${config.site}` : 'site';

  /** The view's state is its URL: filters, page size and cursor, so any view can be shared or bookmarked. */
  function readState() {
    const params = new URLSearchParams(location.search);
    return {
      status: (params.get('status') || '').split(',').filter((s) => WM.statuses.includes(s)),
      app_name: params.get('app_name') || '',
      business_key: params.get('business_key') || '',
      range: params.get('range') || (params.get('from') || params.get('to') ? 'custom' : '24h'),
      from: params.get('from') || '',
      to: params.get('to') || '',
      limit: params.get('limit') || '50',
      cursor: params.get('cursor') || '',
    };
  }
  let state = readState();

  function writeState(next, push = true) {
    state = next;
    const params = new URLSearchParams();
    if (state.status.length) params.set('status', state.status.join(','));
    for (const key of ['app_name', 'business_key', 'cursor'])
      if (state[key]) params.set(key, state[key]);
    if (state.range !== '24h') params.set('range', state.range);
    if (state.range === 'custom') { if (state.from) params.set('from', state.from); if (state.to) params.set('to', state.to); }
    if (state.limit !== '50') params.set('limit', state.limit);
    const refresh = new URLSearchParams(location.search).get('refresh');
    if (refresh) params.set('refresh', refresh);
    const query = params.toString();
    const target = `${location.pathname}${query ? `?${query}` : ''}`;
    if (push) history.pushState(null, '', target); else history.replaceState(null, '', target);
  }

  function fillForm() {
    for (const box of form.querySelectorAll('input[name="status"]')) box.checked = state.status.includes(box.value);
    form.app_name.value = state.app_name;
    form.business_key.value = state.business_key;
    form.range.value = state.range;
    form.from.value = state.from.replace(/Z$/, '');
    form.to.value = state.to.replace(/Z$/, '');
    form.limit.value = state.limit;
    document.getElementById('custom-range').hidden = state.range !== 'custom';
  }

  function stateFromForm() {
    const utc = (value) => value ? `${value.length === 16 ? `${value}:00` : value}Z` : '';
    return {
      status: [...form.querySelectorAll('input[name="status"]:checked')].map((b) => b.value),
      app_name: form.app_name.value.trim(),
      business_key: form.business_key.value.trim(),
      range: form.range.value,
      from: form.range.value === 'custom' ? utc(form.from.value) : '',
      to: form.range.value === 'custom' ? utc(form.to.value) : '',
      limit: form.limit.value,
      cursor: '',
    };
  }

  /** from/to of the current filter; presets are relative to now. */
  function timeWindow() {
    if (state.range === 'custom') return { from: state.from || null, to: state.to || null };
    return { from: new Date(Date.now() - WM.rangeMs(state.range)).toISOString(), to: null };
  }

  function filterParams() {
    const { from, to } = timeWindow();
    return { status: state.status.join(','), app_name: state.app_name, business_key: state.business_key, from, to };
  }

  let debounce = null;
  form.addEventListener('input', (event) => {
    if (event.target.name === 'range') document.getElementById('custom-range').hidden = form.range.value !== 'custom';
    clearTimeout(debounce);
    debounce = setTimeout(() => { writeState(stateFromForm()); reloadAll(); }, event.target.type === 'search' ? 350 : 0);
  });
  form.addEventListener('submit', (event) => event.preventDefault());
  document.getElementById('clear').addEventListener('click', () => {
    writeState({ status: [], app_name: '', business_key: '', range: '24h', from: '', to: '', limit: state.limit, cursor: '' });
    fillForm();
    reloadAll();
  });
  addEventListener('popstate', () => { state = readState(); fillForm(); reloadAll(); });

  let nextCursor = null;
  document.getElementById('next-page').addEventListener('click', () => {
    if (nextCursor) { writeState({ ...state, cursor: nextCursor }); loadJobs(); }
  });
  document.getElementById('first-page').addEventListener('click', () => { writeState({ ...state, cursor: '' }); loadJobs(); });

  const exportLink = document.getElementById('export');
  exportLink.hidden = !!config.site; // CentralApi forwards JSON pages only; the export is the site's own.
  exportLink.addEventListener('click', (event) => {
    event.preventDefault();
    WM.download(exportLink.href, 'jobs.csv').catch((error) => WM.showError(error.message));
  });
  function updateExport() {
    const { from, to } = timeWindow();
    exportLink.href = WM.url('/v1/jobs', { ...filterParams(), from, to, format: 'csv' });
  }

  function waferBar(subjobs) {
    if (!subjobs || !subjobs.total) return el('span', { class: 'muted' }, '—');
    const bar = el('span', { class: 'wafer-bar', title: WM.statuses.map((s) => `${s} ${subjobs[s]}`).join(', ') });
    for (const status of WM.statuses)
      if (subjobs[status]) bar.append(el('span', { style: `width:${(100 * subjobs[status]) / subjobs.total}%;background:var(--status-${status})` }));
    return [bar, el('span', { class: 'wafer-count' }, subjobs.failed ? `${subjobs.failed} failed / ${subjobs.total}` : `${subjobs.total}`)];
  }

  let shown = new Map();
  function renderJobs(page) {
    const rows = page.items.map((job) => {
      const detail = `${base}/jobs/${job.job_id}`;
      const row = el('tr', { dataset: { jobId: job.job_id, status: job.status } },
        el('td', {}, badge(job.status)),
        el('td', {}, el('a', { href: detail }, job.job_key || job.job_id.slice(0, 8))),
        el('td', { title: `${job.app_name} ${job.app_version}` }, `${job.app_name} `, el('span', { class: 'muted' }, job.app_version)),
        el('td', {}, time(job.started_at, true)),
        el('td', {}, time(job.ended_at, true)),
        el('td', { class: 'num' }, duration(job.duration_s)),
        el('td', { class: 'num' }, number(job.cpu_user_s === null ? null : job.cpu_user_s + (job.cpu_system_s || 0), 2)),
        el('td', { class: 'num' }, number(job.mem_max_mb, 0)),
        el('td', {}, waferBar(job.subjobs)),
        el('td', {}, time(job.last_event_at, true)));
      const before = shown.get(job.job_id);
      if (before !== undefined && before !== job.last_event_at) row.classList.add('flash');
      return row;
    });
    shown = new Map(page.items.map((job) => [job.job_id, job.last_event_at]));
    tbody.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { class: 'empty', colspan: 10 }, 'no jobs match these filters'))]));
    nextCursor = page.next_cursor;
    document.getElementById('next-page').disabled = !nextCursor;
    document.getElementById('first-page').disabled = !state.cursor;
    document.getElementById('page-info').textContent =
      `${page.count} row${page.count === 1 ? '' : 's'}${state.cursor ? ' (older page)' : ''}${nextCursor ? ', more older' : ''}`;
  }

  async function loadJobs() {
    updateExport();
    renderJobs(await WM.getJson('/v1/jobs', { ...filterParams(), limit: state.limit, cursor: state.cursor }));
  }

  const chart = WM.chartMaker(() => { if (lastStats) renderStats(lastStats); });

  let lastStats = null;
  function renderStats(stats) {
    lastStats = stats;
    const counts = stats.counts;
    for (const status of WM.statuses) document.getElementById(`kpi-${status}`).textContent = number(counts[status], 0);
    const finished = counts.succeeded + counts.failed + counts.canceled;
    document.getElementById('kpi-failure-rate').textContent = finished ? percent(counts.failed / finished) : '—';
    const oldest = document.getElementById('kpi-oldest');
    oldest.replaceChildren(stats.running.oldest_job_id
      ? el('a', { href: `${base}/jobs/${stats.running.oldest_job_id}`, title: `started ${WM.formatTime(stats.running.oldest_started_at)}` }, duration(stats.running.oldest_age_seconds))
      : '—');

    const status = chart('chart-status', 'doughnut');
    status.data.labels = WM.statuses;
    status.data.datasets = [{ data: WM.statuses.map((s) => counts[s]), backgroundColor: WM.statuses.map(WM.statusColor), borderWidth: 0 }];
    status.update('none');

    const over = chart('chart-time', 'bar', { stacked: true });
    over.data.labels = stats.buckets.map((b) => WM.formatShort(new Date(b.start)));
    over.data.datasets = WM.statuses.map((s) => ({ label: s, data: stats.buckets.map((b) => b[s]), backgroundColor: WM.statusColor(s) }));
    over.update('none');
    document.getElementById('bucket-info').textContent = `${number(stats.bucket_seconds / 60, 0)} min buckets, started ${WM.formatTime(stats.from).slice(0, 16)} →`;

    renderAppChart();
    document.getElementById('percentile-method').textContent = `percentiles: ${stats.percentile_method}`;
    const apps = [...stats.per_app].sort((a, b) => b.jobs - a.jobs);
    document.querySelector('#apps tbody').replaceChildren(...(apps.length ? apps.map((app) => el('tr', {},
      el('td', {}, app.app_name),
      el('td', { class: 'num' }, number(app.jobs, 0)),
      el('td', { class: 'num' }, number(app.failed, 0)),
      el('td', { class: 'num' }, percent(app.failure_rate)),
      ...['p50', 'p95', 'p99'].map((p) => el('td', { class: 'num' }, duration(app.duration_s?.[p]))),
      ...['p50', 'p95'].map((p) => el('td', { class: 'num' }, number(app.cpu_user_s?.[p], 2))),
      ...['p50', 'p95'].map((p) => el('td', { class: 'num' }, number(app.mem_max_mb?.[p], 0))))) : [el('tr', {}, el('td', { class: 'empty', colspan: 11 }, 'no jobs in this time range'))]));
  }

  const metricSelect = document.getElementById('app-metric');
  metricSelect.addEventListener('change', renderAppChart);
  function renderAppChart() {
    if (!lastStats) return;
    const metric = metricSelect.value;
    const apps = [...lastStats.per_app].sort((a, b) => b.jobs - a.jobs).slice(0, 12);
    const perApp = chart('chart-apps', 'bar');
    perApp.data.labels = apps.map((a) => a.app_name);
    perApp.data.datasets = [['p50', 0.45], ['p95', 0.7], ['p99', 1]].map(([p, alpha]) => ({
      label: p, data: apps.map((a) => a[metric]?.[p] ?? null), borderWidth: 0,
      // Lighter to darker: one hue, three percentiles.
      backgroundColor: `color-mix(in srgb, ${WM.cssVar('--accent')} ${alpha * 100}%, transparent)`,
    }));
    perApp.update('none');
  }

  async function loadStats() {
    const { from, to } = timeWindow();
    const end = to ? Date.parse(to) : Date.now();
    const start = from ? Date.parse(from) : end - 86400e3;
    renderStats(await WM.getJson('/v1/stats', { from: new Date(start).toISOString(), to: new Date(end).toISOString(), bucket: `${WM.bucketFor(end - start)}s` }));
  }

  async function loadHealth() {
    const health = document.getElementById('health');
    if (config.site) {
      const site = (await WM.getJson('/v1/sites')).sites.find((s) => s.site_id === config.site);
      health.dataset.status = site?.status ?? 'unknown';
      health.textContent = site?.status ?? 'unknown site';
      health.title = site?.error ?? '';
      return;
    }
    const response = await fetch('/v1/healthz');
    const body = await response.json();
    document.getElementById('title').textContent = `site ${body.site ?? ''}`;
    document.title = `WaferMonitor · ${body.site ?? 'site'}`;
    health.dataset.status = body.status;
    health.textContent = body.status;
    health.title = Object.entries(body.checks || {}).map(([name, check]) => `${name}: ${check.status} (${check.detail})`).join('\n');
  }

  // Alerts and sidecars: the page asks only for the APIs this LocalApi has (config.panels), and shows what they answer.
  const panels = {
    alerts: { params: { state: 'pending,firing', limit: 50 }, columns: ['severity', 'state', 'rule', 'app', 'summary', 'active_at', 'fired_at'] },
    sidecars: { params: {}, columns: ['node', 'version', 'silent', 'spool_events', 'dead_letters', 'oldest_spooled_age_s', 'last_heard_at'] },
  };
  async function loadPanel(name) {
    const body = await WM.getJson(`/v1/${name}`, panels[name].params);
    const items = (body.items || []).map((item) => ({ ...item, summary: item.annotations?.summary ?? item.annotations?.description }));
    const columns = panels[name].columns;
    const cell = (item, column) => {
      const value = item[column];
      if (/_at$/.test(column) && value) return time(value);
      if (column === 'severity' || column === 'state') return badge(String(value));
      return value === null || value === undefined ? '—' : String(value);
    };
    const table = el('table', { class: 'grid' },
      el('thead', {}, el('tr', {}, columns.map((c) => el('th', {}, c.replaceAll('_', ' '))))),
      el('tbody', {}, items.length
        ? items.map((item) => el('tr', {}, columns.map((c) => el('td', {}, cell(item, c)))))
        : el('tr', {}, el('td', { class: 'empty', colspan: columns.length }, name === 'alerts' ? 'no active alerts' : 'no sidecar has reported'))));
    document.getElementById(name).replaceChildren(table);
    document.getElementById(`${name}-panel`).hidden = false;
  }

  async function reloadAll() {
    const panels = (config.panels || []).map(loadPanel);
    await Promise.all([loadJobs(), loadStats(), loadHealth(), ...panels]);
  }

  fillForm();
  writeState(state, false);
  const refreshNow = WM.autoRefresh(reloadAll, config.live ? 30 : 10);
  // A live event reloads the current page (at most once a second) and the stats (at most every five seconds).
  const reloadJobs = WM.throttle(() => loadJobs().catch((e) => WM.showError(e.message)), 1000);
  const reloadStats = WM.throttle(() => loadStats().catch((e) => WM.showError(e.message)), 5000);
  WM.live({}, () => { reloadJobs(); reloadStats(); }, refreshNow);
})();
