'use strict';
// Shared by every operator page: configuration, API calls, time formatting, theme and the refresh selector.
const WM = (() => {
  const config = JSON.parse(document.querySelector('meta[name="wm-config"]').content);
  const statuses = ['running', 'succeeded', 'failed', 'canceled'];

  // The site view on CentralApi reads the same endpoints through central's forwarding: every call names the site.
  function url(path, params = {}) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params))
      if (value !== null && value !== undefined && value !== '') search.set(key, value);
    if (config.site) search.set('site', config.site);
    const query = search.toString();
    return query ? `${path}?${query}` : path;
  }

  // The API needs a read token (docs/security.md): kept in this browser's localStorage, asked for once when refused.
  const tokenKey = 'wm-token';
  const token = () => localStorage.getItem(tokenKey);
  let askedForToken = false;
  function askForToken() {
    if (askedForToken) return;
    askedForToken = true;
    const given = prompt('This site needs a read token (the operator has it; the local fab writes it in endpoints.json). It is kept in this browser only.');
    if (given && given.trim()) {
      localStorage.setItem(tokenKey, given.trim());
      location.reload();
    }
  }

  async function getJson(path, params, { optional = false } = {}) {
    const headers = { accept: 'application/json' };
    if (token()) headers.authorization = `Bearer ${token()}`;
    const response = await fetch(url(path, params), { headers });
    if (response.status === 401 || response.status === 403) {
      if (response.status === 401) localStorage.removeItem(tokenKey);
      askForToken();
      throw new Error(`${path}: a read token is needed`);
    }
    if (optional && response.status === 404) return null;
    if (!response.ok) {
      let detail = `${response.status} ${response.statusText}`;
      try { const problem = await response.json(); detail = problem.detail || problem.title || detail; } catch { /* not JSON */ }
      throw new Error(`${path}: ${detail}`);
    }
    return response.json();
  }

  /** Downloads a file the API serves (a link cannot send the token): fetched with it, then saved under the server's name. */
  async function download(href, fallbackName) {
    const headers = token() ? { authorization: `Bearer ${token()}` } : {};
    const response = await fetch(href, { headers });
    if (response.status === 401 || response.status === 403) { askForToken(); return; }
    if (!response.ok) throw new Error(`${href}: ${response.status} ${response.statusText}`);
    const disposition = response.headers.get('content-disposition') || '';
    const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] || fallbackName;
    const link = el('a', { href: URL.createObjectURL(await response.blob()), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  const zoned = new Intl.DateTimeFormat('sv-SE', {
    timeZone: config.time_zone, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
  const formatTime = (iso) => zoned.format(new Date(iso));
  /** Chart labels: "12-02 05:30" in the site's zone. */
  const formatShort = (date) => formatTime(date.toISOString()).slice(5, 16);

  /** A time in the site's zone, with UTC on hover; compact leaves out the year (tables at 1366 px). */
  function time(iso, compact = false) {
    if (!iso) return el('span', { class: 'muted' }, '—');
    const text = formatTime(iso);
    return el('time', { datetime: iso, title: `${compact ? `${text} · ` : ''}UTC ${new Date(iso).toISOString()}` }, compact ? text.slice(5) : text);
  }

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children.flat())
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    return node;
  }

  function number(value, digits = 1) {
    if (value === null || value === undefined) return '—';
    return Number(value).toLocaleString('en-US', { maximumFractionDigits: digits });
  }
  const percent = (value) => value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)} %`;

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '—';
    if (seconds < 60) return `${number(seconds, 1)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} m ${Math.round(seconds % 60)} s`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} m`;
    return `${Math.floor(seconds / 86400)} d ${Math.round((seconds % 86400) / 3600)} h`;
  }

  const badge = (status) => el('span', { class: 'badge', dataset: { status } }, status);
  const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const statusColor = (status) => cssVar(`--status-${status}`);

  /** Range names of the filters ('1h', '7d') in milliseconds. */
  function rangeMs(range) {
    const match = /^(\d+)([hd])$/.exec(range || '');
    return match ? Number(match[1]) * (match[2] === 'h' ? 3600e3 : 86400e3) : null;
  }

  /** A bucket size giving at most about 120 bars over the span. */
  function bucketFor(spanMs) {
    const sizes = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400];
    return sizes.find((s) => spanMs / 1000 / s <= 120) || sizes[sizes.length - 1];
  }

  const themeKey = 'wm-theme';
  function applyTheme(theme) {
    document.documentElement.dataset.theme = theme;
    document.dispatchEvent(new CustomEvent('wm-theme'));
  }
  applyTheme(localStorage.getItem(themeKey) || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
  document.addEventListener('DOMContentLoaded', () => {
    document.getElementById('theme')?.addEventListener('click', () => {
      const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
      localStorage.setItem(themeKey, next);
      applyTheme(next);
    });
  });

  /**
   * The refresh selector: calls load() now and every chosen interval (kept in the URL's `refresh` and in local storage),
   * never two loads at once. Returns a function that reloads at once.
   */
  function autoRefresh(load, defaultSeconds) {
    const select = document.getElementById('refresh');
    for (const [value, label] of [[0, 'off'], [2, '2 s'], [5, '5 s'], [10, '10 s'], [30, '30 s'], [60, '1 min'], [300, '5 min']])
      select.append(el('option', { value }, label));
    const fromUrl = new URLSearchParams(location.search).get('refresh');
    const initial = fromUrl ?? localStorage.getItem('wm-refresh') ?? String(defaultSeconds);
    select.value = [...select.options].some((o) => o.value === initial) ? initial : String(defaultSeconds);
    let timer = null;
    let running = false;
    let again = false;
    const updated = document.getElementById('updated');
    async function run() {
      if (running) { again = true; return; }
      running = true;
      try {
        await load();
        showError(null);
        updated.textContent = `updated ${formatTime(new Date().toISOString()).slice(11)}`;
      } catch (error) {
        showError(error.message);
      } finally {
        running = false;
        if (again) { again = false; run(); }
      }
    }
    function schedule() {
      clearInterval(timer);
      const seconds = Number(select.value);
      if (seconds > 0) timer = setInterval(run, seconds * 1000);
    }
    select.addEventListener('change', () => {
      localStorage.setItem('wm-refresh', select.value);
      const params = new URLSearchParams(location.search);
      params.set('refresh', select.value);
      history.replaceState(history.state, '', `${location.pathname}?${params}`);
      schedule();
    });
    schedule();
    run();
    return run;
  }

  /** Calls fn at most once per interval, trailing: a burst of live events becomes one reload. */
  function throttle(fn, ms) {
    let timer = null;
    return () => { if (!timer) timer = setTimeout(() => { timer = null; fn(); }, ms); };
  }

  /**
   * Follows LocalApi's live stream; onEvent gets each message's data. EventSource resumes with Last-Event-ID by itself;
   * a `reset` (resume point too old) reloads everything and reconnects without one.
   */
  function live(params, onEvent, onReset) {
    const indicator = document.getElementById('live');
    if (!config.live) { indicator.dataset.state = 'polling'; return; }
    let source = null;
    function connect() {
      indicator.dataset.state = 'connecting';
      // EventSource cannot send a header: the stream alone takes the token as access_token.
      source = new EventSource(url('/v1/stream', token() ? { ...params, access_token: token() } : params));
      source.onopen = () => { indicator.dataset.state = 'open'; };
      source.onerror = () => { indicator.dataset.state = 'connecting'; };
      source.onmessage = (message) => onEvent(JSON.parse(message.data));
      source.addEventListener('reset', () => { source.close(); onReset(); connect(); });
    }
    connect();
    addEventListener('pagehide', () => source?.close());
  }

  // Charts are made once and updated in place without animation, so nothing moves when data arrives; a theme change
  // remakes them in the new colours and calls redraw.
  function chartMaker(redraw) {
    const charts = {};
    document.addEventListener('wm-theme', () => { for (const id of Object.keys(charts)) { charts[id].destroy(); delete charts[id]; } redraw(); });
    return (id, type, { stacked = false, horizontal = false, xFromZero = false } = {}) => {
      if (charts[id]) return charts[id];
      const grid = { color: cssVar('--line') };
      const ticks = { color: cssVar('--muted') };
      charts[id] = new Chart(document.getElementById(id), {
        type,
        data: { labels: [], datasets: [] },
        options: {
          animation: false, maintainAspectRatio: false, responsive: true, indexAxis: horizontal ? 'y' : 'x',
          plugins: { legend: { labels: { color: cssVar('--fg'), boxWidth: 12 } } },
          scales: type === 'doughnut' ? {} : { x: { grid, ticks, stacked, beginAtZero: xFromZero }, y: { grid, ticks, stacked, beginAtZero: true } },
        },
      });
      return charts[id];
    };
  }

  function showError(message) {
    const banner = document.getElementById('error');
    if (!banner) return;
    banner.hidden = !message;
    banner.textContent = message || '';
  }

  return { config, statuses, url, getJson, download, time, formatTime, formatShort, el, number, percent, duration, badge, cssVar, statusColor,
    rangeMs, bucketFor, autoRefresh, throttle, live, chartMaker, showError };
})();
