'use strict';
// One job: its wafers as a grid coloured by status, each wafer's times and metrics, the event timeline, metadata, error.
(() => {
  const { config, el, time, number, duration, badge } = WM;
  const jobId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop());
  const base = config.base;
  document.getElementById('home').href = `${base}/`;
  document.getElementById('back').href = `${base}/`;
  document.getElementById('back').textContent = config.site ? `← ${config.site} jobs` : '← jobs';
  let selected = null;

  const errorKeys = ['error', 'error_message', 'message', 'reason', 'exception'];
  /** The error text an event or row carries in its metadata, if any. */
  function errorOf(metadata) {
    if (!metadata || typeof metadata !== 'object') return null;
    const key = errorKeys.find((k) => metadata[k] !== undefined && metadata[k] !== null);
    return key ? (typeof metadata[key] === 'string' ? metadata[key] : JSON.stringify(metadata[key])) : null;
  }

  const naturalOrder = new Intl.Collator('en', { numeric: true });
  const fact = (label, value) => el('div', {}, el('dt', {}, label), el('dd', {}, value));

  function render(detail) {
    const { job, subjobs, events } = detail;
    document.title = `WaferMonitor · ${job.job_key || job.job_id}`;
    document.getElementById('job-title').textContent = job.job_key ? `lot ${job.job_key}` : 'job';
    const status = document.getElementById('job-status');
    status.dataset.status = job.status;
    status.textContent = job.status;
    document.getElementById('job-id').textContent = job.job_id;
    document.getElementById('facts').replaceChildren(
      fact('app', `${job.app_name} ${job.app_version}`), fact('site', job.site_id),
      fact('started', time(job.started_at)), fact('ended', time(job.ended_at)), fact('duration', duration(job.duration_s)),
      fact('CPU user / system s', `${number(job.cpu_user_s, 2)} / ${number(job.cpu_system_s, 2)}`), fact('memory max MB', number(job.mem_max_mb, 0)),
      fact('last event', time(job.last_event_at)),
      fact('wafers', WM.statuses.filter((s) => job.subjobs[s]).map((s) => `${job.subjobs[s]} ${s}`).join(', ') || '—'));

    // The error: the job's own error text, else its last error or failed event's, plus which wafers failed.
    const failedEvent = [...events].reverse().find((e) => e.event.kind === 'error' || e.event.status === 'failed');
    const wafers = [...subjobs].sort((a, b) => naturalOrder.compare(a.sub_key || '', b.sub_key || ''));
    const failedWafers = wafers.filter((s) => s.status === 'failed');
    const errorText = errorOf(job.metadata) || (failedEvent && (errorOf(failedEvent.event.metadata) || `${failedEvent.event.kind} at ${WM.formatTime(failedEvent.event.at)}`));
    const errorBox = document.getElementById('job-error');
    errorBox.hidden = !(job.status === 'failed' || errorText || failedWafers.length);
    errorBox.textContent = [
      job.status === 'failed' ? `failed: ${errorText || 'no error message'}` : errorText,
      failedWafers.length ? `failed wafers: ${failedWafers.map((s) => s.sub_key || s.subjob_id.slice(0, 8)).join(', ')}` : null,
    ].filter(Boolean).join('\n');

    document.getElementById('wafer-summary').textContent = wafers.length
      ? WM.statuses.map((s) => [s, wafers.filter((w) => w.status === s).length]).filter(([, n]) => n).map(([s, n]) => `${n} ${s}`).join(' · ')
      : 'this job has no wafers (subjobs)';
    document.getElementById('wafers').replaceChildren(...wafers.map((w) => {
      const tile = el('button', {
        type: 'button', class: `wafer${selected === w.subjob_id ? ' selected' : ''}`, dataset: { status: w.status, subjobId: w.subjob_id },
        title: `${w.sub_key || w.subjob_id}: ${w.status}${errorOf(w.metadata) ? ` — ${errorOf(w.metadata)}` : ''}`,
      }, el('span', {}, w.sub_key || w.subjob_id.slice(0, 6)), el('small', {}, w.status));
      tile.addEventListener('click', () => select(w.subjob_id));
      return tile;
    }));
    document.querySelector('#wafer-table tbody').replaceChildren(...(wafers.length ? wafers.map((w) => el('tr', {
      class: selected === w.subjob_id ? 'selected' : null, dataset: { subjobId: w.subjob_id, status: w.status },
    },
    el('td', {}, w.sub_key || w.subjob_id), el('td', {}, badge(w.status)), el('td', {}, time(w.started_at)), el('td', {}, time(w.ended_at)),
    el('td', { class: 'num' }, duration(w.duration_s)), el('td', { class: 'num' }, number(w.cpu_user_s, 2)),
    el('td', { class: 'num' }, number(w.cpu_system_s, 2)), el('td', { class: 'num' }, number(w.mem_max_mb, 0)),
    el('td', { class: 'mono', title: w.metadata ? JSON.stringify(w.metadata) : '' }, errorOf(w.metadata) || (w.metadata ? JSON.stringify(w.metadata) : '—'))))
      : [el('tr', {}, el('td', { class: 'empty', colspan: 9 }, 'no wafers'))]));

    document.getElementById('event-count').textContent = `${events.length} event${events.length === 1 ? '' : 's'} of the job itself`;
    document.getElementById('timeline').replaceChildren(...events.map((e) => {
      const body = e.event;
      const metrics = Object.entries(body.metrics || {}).map(([k, v]) => `${k}=${v}`).join(' ');
      const metadata = body.metadata && Object.keys(body.metadata).length ? JSON.stringify(body.metadata) : '';
      return el('li', {}, time(body.at), el('span', { class: 'kind', dataset: { kind: body.kind, status: body.status || '' } }, body.kind),
        el('span', { class: 'detail mono' }, [body.status, metrics, metadata].filter(Boolean).join(' · ')));
    }));
    document.getElementById('metadata').textContent = job.metadata ? JSON.stringify(job.metadata, null, 2) : 'no metadata';
  }

  function select(subjobId) {
    selected = selected === subjobId ? null : subjobId;
    for (const node of document.querySelectorAll('[data-subjob-id]'))
      node.classList.toggle('selected', node.dataset.subjobId === selected);
    document.querySelector(`#wafer-table tr[data-subjob-id="${selected}"]`)?.scrollIntoView({ block: 'nearest' });
  }

  const load = async () => render(await WM.getJson(`/v1/jobs/${encodeURIComponent(jobId)}`));
  const refreshNow = WM.autoRefresh(load, config.live ? 30 : 5);
  const reload = WM.throttle(() => load().catch((e) => WM.showError(e.message)), 1000);
  WM.live({ job_id: jobId }, reload, refreshNow);
})();
