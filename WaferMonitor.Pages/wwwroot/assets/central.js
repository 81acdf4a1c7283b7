'use strict';
// Every site side by side: health from /v1/sites, counts, failure rate and throughput from /v1/stats; a site that does
// not answer is shown as down and the rest still show.
(() => {
  const { el, time, number, percent, badge } = WM;
  const rangeSelect = document.getElementById('range');
  const params = new URLSearchParams(location.search);
  if (params.get('range') && [...rangeSelect.options].some((o) => o.value === params.get('range'))) rangeSelect.value = params.get('range');
  rangeSelect.addEventListener('change', () => {
    const next = new URLSearchParams(location.search);
    next.set('range', rangeSelect.value);
    history.replaceState(null, '', `?${next}`);
    refreshNow();
  });

  let last = null;
  const chart = WM.chartMaker(() => { if (last) render(...last); });

  function render(sites, stats, spanMs) {
    last = [sites, stats, spanMs];
    const errors = stats.site_errors || {};
    const banner = document.getElementById('partial');
    banner.hidden = !stats.partial;
    banner.textContent = stats.partial
      ? `Partial results — did not answer: ${Object.entries(errors).map(([site, error]) => `${site} (${error})`).join(', ')}`
      : '';
    const down = sites.filter((s) => s.status === 'down' || errors[s.site_id]).length;
    document.getElementById('site-count').textContent = `${sites.length} site${sites.length === 1 ? '' : 's'}, ${sites.length - down} answering`;
    const hours = spanMs / 3600e3;
    document.querySelector('#sites tbody').replaceChildren(...sites.map((site) => {
      const siteStats = stats.sites?.[site.site_id];
      const counts = siteStats?.counts;
      // A site that does not answer is down whatever its last poll said.
      const health = errors[site.site_id] && site.status !== 'down' ? 'down' : site.status;
      const finished = counts ? counts.succeeded + counts.failed + counts.canceled : 0;
      const cell = (value) => el('td', { class: 'num' }, counts ? value : '—');
      return el('tr', { dataset: { site: site.site_id, health } },
        el('td', {}, el('a', { href: `/sites/${encodeURIComponent(site.site_id)}` }, site.site_id)),
        el('td', {}, badge(health)),
        el('td', { class: 'num' }, site.latency_ms === null ? '—' : `${number(site.latency_ms, 0)} ms`),
        el('td', {}, time(site.last_contact_at)),
        cell(number(counts?.running, 0)), cell(number(counts?.succeeded, 0)), cell(number(counts?.failed, 0)),
        cell(number(counts?.canceled, 0)), cell(number(counts?.total, 0)),
        cell(finished ? percent(counts.failed / finished) : '—'),
        cell(number(counts ? counts.total / hours : null, 1)),
        el('td', { class: 'muted', title: errors[site.site_id] || site.error || '' }, errors[site.site_id] || site.error || ''));
    }));

    const answered = sites.filter((s) => stats.sites?.[s.site_id]);
    const bySite = chart('chart-sites', 'bar', { stacked: true, horizontal: true, xFromZero: true });
    bySite.data.labels = answered.map((s) => s.site_id);
    bySite.data.datasets = WM.statuses.map((status) => ({
      label: status, data: answered.map((s) => stats.sites[s.site_id].counts[status]), backgroundColor: WM.statusColor(status),
    }));
    bySite.update('none');

    const starts = [...new Set(answered.flatMap((s) => stats.sites[s.site_id].buckets.map((b) => b.start)))].sort();
    const palette = ['--accent', '--status-succeeded', '--status-degraded', '--status-failed', '--status-canceled', '--status-running'];
    const overTime = chart('chart-throughput', 'line', { xFromZero: true });
    overTime.data.labels = starts.map((start) => WM.formatShort(new Date(start)));
    overTime.data.datasets = answered.map((s, i) => {
      const byStart = new Map(stats.sites[s.site_id].buckets.map((b) => [b.start, WM.statuses.reduce((sum, st) => sum + b[st], 0)]));
      const color = WM.cssVar(palette[i % palette.length]);
      return { label: s.site_id, data: starts.map((start) => byStart.get(start) ?? 0), borderColor: color, backgroundColor: color, pointRadius: 0 };
    });
    overTime.update('none');
  }

  async function load() {
    const spanMs = WM.rangeMs(rangeSelect.value);
    // Rounded up to 10 s, so dashboards open at the same time share CentralApi's cached answer.
    const to = Math.ceil(Date.now() / 10e3) * 10e3;
    const [sites, stats, health] = await Promise.all([
      WM.getJson('/v1/sites'),
      WM.getJson('/v1/stats', { from: new Date(to - spanMs).toISOString(), to: new Date(to).toISOString(), bucket: `${WM.bucketFor(spanMs)}s` }),
      fetch('/v1/healthz').then((r) => r.json()),
    ]);
    const badgeNode = document.getElementById('health');
    badgeNode.dataset.status = health.status;
    badgeNode.textContent = health.status;
    render(sites.sites, stats, spanMs);
  }
  const refreshNow = WM.autoRefresh(load, 10);
})();
