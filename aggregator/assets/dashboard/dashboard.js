// The Chorus aggregator dashboard: polls the aggregator's JSON API and
// renders it. Plain DOM, no framework, nothing loaded from elsewhere.
// Text from the API (addresses, reasons) is only ever set as textContent.
'use strict';

/** Time between the end of one poll and the start of the next. */
const POLL_MS = 1000;
/** Data older than this is shown as stale. */
const STALE_MS = 5000;
/** A request that takes longer counts as failed. */
const REQUEST_TIMEOUT_MS = 4000;
/** Checkpoints in the participation grid (the API's newest first). */
const GRID_CHECKPOINTS = 24;
/** Rows of the checkpoint table. */
const TABLE_CHECKPOINTS = 10;
/** Rows of the divergence table. */
const DIVERGENCES = 10;
/** Weights are token amounts with 18 decimals. */
const WEIGHT_DECIMALS = 18n;

/** One letter per rejection reason kind (wire: RejectReason's `kind`). */
const REASON_LETTERS = { mismatch: 'M', notYetSafe: 'S', unknownRollup: 'U', unavailable: 'N' };
const REASON_WORDS = {
  mismatch: 'state mismatch',
  notYetSafe: 'not yet safe',
  unknownRollup: 'unknown rollup',
  unavailable: 'node unavailable',
};

const view = { lastSuccess: 0, lastError: '', polls: 0, firstRenderMs: null };

/** `el('td', {className: 'num'}, 'text', child)`. */
function el(tag, properties, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(properties || {})) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    // Through the CSSOM: the page's CSP refuses style attributes.
    else if (key === 'style') Object.assign(node.style, value);
    else if (key === 'attrs') for (const [name, v] of Object.entries(value)) node.setAttribute(name, v);
    else node[key] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function byTestId(id) {
  return document.querySelector(`[data-testid="${id}"]`);
}

/** `0x1234…cdef`, the whole value in a tooltip. */
function short(hex, keep = 4) {
  if (!hex || hex.length <= 2 + 2 * keep + 1) return el('code', {}, hex || '–');
  return el('code', { title: hex }, `${hex.slice(0, 2 + keep)}…${hex.slice(-keep)}`);
}

function integer(value) {
  return value === undefined || value === null ? '–' : Number(value).toLocaleString('en-US');
}

/** A U256 from the API (0x-hex string) as a BigInt. */
function weight(hex) {
  try {
    return BigInt(hex);
  } catch {
    return 0n;
  }
}

/** A weight as a token amount: `1,234.5` (at most two decimals, rounded down). */
function tokens(value) {
  const unit = 10n ** WEIGHT_DECIMALS;
  const whole = value / unit;
  const cents = ((value % unit) * 100n) / unit;
  const text = whole.toLocaleString('en-US');
  if (cents === 0n) return text;
  return `${text}.${cents.toString().padStart(2, '0').replace(/0$/, '')}`;
}

/** `part` as a percentage of `total` with one decimal, rounded down. */
function percent(part, total) {
  if (total === 0n) return '0%';
  const tenths = (part * 1000n) / total;
  return `${tenths / 10n}.${tenths % 10n}%`;
}

async function getJson(path, signal) {
  const response = await fetch(path, { signal, cache: 'no-store', headers: { Accept: 'application/json' } });
  if (!response.ok) {
    let detail = '';
    try {
      detail = (await response.json()).message || '';
    } catch {
      // Not an ApiError body: the status says enough.
    }
    throw new Error(`${path} answered ${response.status}${detail ? `: ${detail}` : ''}`);
  }
  return response.json();
}

async function poll() {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    const [status, checkpoints, divergences] = await Promise.all([
      getJson('/v1/status', controller.signal),
      getJson(`/v1/checkpoints?limit=${GRID_CHECKPOINTS}`, controller.signal),
      getJson(`/v1/divergences?limit=${DIVERGENCES}`, controller.signal),
    ]);
    render(status, checkpoints, divergences);
    view.lastSuccess = Date.now();
    view.lastError = '';
    if (view.firstRenderMs === null && checkpoints.length > 0) {
      // performance.now() counts from the start of the navigation.
      view.firstRenderMs = Math.round(performance.now());
      document.body.dataset.firstRenderMs = String(view.firstRenderMs);
    }
  } catch (error) {
    view.lastError = error.name === 'AbortError' ? 'no answer within 4 s' : error.message;
  } finally {
    clearTimeout(timer);
    view.polls += 1;
    document.body.dataset.polls = String(view.polls);
    showConnection();
    setTimeout(poll, POLL_MS);
  }
}

/** The live/stale/unreachable line at the top. */
function showConnection() {
  const line = document.getElementById('connection');
  const age = Date.now() - view.lastSuccess;
  let state;
  let text;
  if (view.lastSuccess === 0) {
    state = view.lastError ? 'unreachable' : 'connecting';
    text = view.lastError ? `Aggregator unreachable: ${view.lastError}` : 'Connecting to the aggregator…';
  } else if (view.lastError || age > STALE_MS) {
    state = view.lastError ? 'unreachable' : 'stale';
    const when = new Date(view.lastSuccess).toLocaleTimeString('en-GB');
    const why = view.lastError ? `aggregator unreachable (${view.lastError})` : 'no fresh data';
    text = `Stale: ${why}; showing data from ${when}, ${Math.round(age / 1000)} s ago`;
  } else {
    state = 'live';
    text = `Live · updated ${new Date(view.lastSuccess).toLocaleTimeString('en-GB')}`;
  }
  if (line.dataset.state !== state) {
    line.dataset.state = state;
    // Announced once per change of state, not at every tick of the clock.
    document.getElementById('connection-announce').textContent = text;
  }
  if (line.textContent !== text) line.textContent = text;
  document.body.classList.toggle('is-stale', state !== 'live' && view.lastSuccess !== 0);
}

function render(status, checkpoints, divergences) {
  renderOverview(status);
  renderRollups(status.rollups || []);
  renderCheckpoints(checkpoints.slice(0, TABLE_CHECKPOINTS));
  renderGrid(checkpoints);
  renderDivergences(divergences);
}

function renderOverview(status) {
  byTestId('l1-chain').textContent = String(status.domain.l1ChainId);
  byTestId('attestation-contract').textContent = status.domain.attestationContract;
  byTestId('table-version').textContent =
    status.tableVersion === undefined ? 'not loaded yet' : `version ${status.tableVersion}`;
  byTestId('attested-count').textContent = integer(status.attestedCheckpoints);
  byTestId('submitter').textContent = status.submitter;
}

function emptyRow(columns, text) {
  return el('tr', {}, el('td', { colSpan: columns, className: 'empty' }, text));
}

function renderRollups(rollups) {
  const rows = rollups.map((rollup) =>
    el(
      'tr',
      { dataset: { testid: 'rollup-row', rollupId: String(rollup.rollupId) } },
      el('th', { scope: 'row', dataset: { testid: 'rollup-id' } }, String(rollup.rollupId)),
      el('td', { className: 'num', dataset: { testid: 'rollup-safe-head' } }, integer(rollup.safeHead)),
      el(
        'td',
        { className: 'num', dataset: { testid: 'rollup-attested', value: String(rollup.attested ?? '') } },
        rollup.attested === undefined ? 'none yet' : integer(rollup.attested),
      ),
      el(
        'td',
        { className: `num ${lagClass(rollup.lag)}`, dataset: { testid: 'rollup-lag' } },
        integer(rollup.lag),
      ),
    ),
  );
  document.getElementById('rollups-body').replaceChildren(...(rows.length ? rows : [emptyRow(4, 'No rollups configured.')]));
}

function lagClass(lag) {
  if (lag === undefined) return '';
  if (lag > 100) return 'bad';
  if (lag > 20) return 'warn';
  return '';
}

function stateBadge(state) {
  return el('span', { className: `badge ${state}`, dataset: { testid: 'checkpoint-state' } }, state);
}

function weightCell(checkpoint) {
  const signed = weight(checkpoint.signedWeight);
  const needed = weight(checkpoint.neededWeight);
  const total = weight(checkpoint.totalWeight);
  const share = total === 0n ? 0 : Number((signed * 1000n) / total) / 10;
  const neededShare = total === 0n ? 0 : Number((needed * 1000n) / total) / 10;
  const bar = el(
    'span',
    { className: 'bar', attrs: { 'aria-hidden': 'true' } },
    el('span', { className: `fill ${signed >= needed && signed > 0n ? 'quorum' : ''}`, style: { width: `${share}%` } }),
    el('span', { className: 'mark', style: { left: `${neededShare}%` } }),
  );
  return el(
    'td',
    { className: 'weight' },
    bar,
    el(
      'span',
      { dataset: { testid: 'checkpoint-weight', value: signed.toString(), total: total.toString(), needed: needed.toString() } },
      el('strong', {}, tokens(signed)),
      ` (${percent(signed, total)})`,
    ),
    el('span', { className: 'muted' }, ` · needs ${tokens(needed)} of ${tokens(total)}`),
  );
}

/** What the transaction column says before there is one. */
const NO_TRANSACTION = { open: 'awaiting quorum', submitting: 'sending…', superseded: '—' };

function renderCheckpoints(checkpoints) {
  const rows = checkpoints.map((checkpoint) => {
    const proposal = checkpoint.proposal;
    const commitments = proposal.commitments.map((c) => `${c.rollupId}: ${integer(c.l2BlockNumber)}`).join(', ');
    const tx = checkpoint.l1Transaction;
    const operators = checkpoint.signers.length + checkpoint.missing.length;
    return el(
      'tr',
      { dataset: { testid: 'checkpoint-row', checkpointId: String(proposal.checkpointId), state: checkpoint.state } },
      el('th', { scope: 'row', className: 'num', dataset: { testid: 'checkpoint-id' } }, `#${proposal.checkpointId}`),
      el('td', { title: checkpoint.waitingFor || '' }, stateBadge(checkpoint.state)),
      el('td', { className: 'commitments' }, commitments || 'none'),
      weightCell(checkpoint),
      el('td', { className: 'num' }, `${checkpoint.signers.length} of ${operators}`),
      el(
        'td',
        { dataset: { testid: 'checkpoint-tx', value: tx || '' } },
        tx ? short(tx, 6) : el('span', { className: 'muted' }, NO_TRANSACTION[checkpoint.state] || '—'),
      ),
      el('td', { className: 'num', dataset: { testid: 'checkpoint-l1-block' } }, integer(checkpoint.l1Block)),
    );
  });
  document
    .getElementById('checkpoints-body')
    .replaceChildren(...(rows.length ? rows : [emptyRow(7, 'No checkpoint proposed yet.')]));
}

/** What `operator` did on `checkpoint`: status, reason kinds, words for a tooltip. */
function participation(checkpoint, operator) {
  if (checkpoint.signers.includes(operator)) return { status: 'signed', kinds: [], words: 'signed' };
  const rejection = checkpoint.rejections.find((r) => r.operator === operator);
  if (rejection) {
    const kinds = [...new Set(rejection.rejected.map((r) => r.reason.kind))];
    const words = rejection.rejected
      .map((r) => `rollup ${r.commitment.rollupId} block ${r.commitment.l2BlockNumber}: ${REASON_WORDS[r.reason.kind] || r.reason.kind}`)
      .join('; ');
    return { status: 'rejected', kinds, words: `rejected (${words})` };
  }
  if (checkpoint.missing.includes(operator)) {
    // A superseded proposal was replaced before quorum: not signing it is
    // no fault (a newer one was signed instead).
    if (checkpoint.state === 'superseded') return { status: 'superseded', kinds: [], words: 'superseded before it signed' };
    return checkpoint.state === 'open'
      ? { status: 'pending', kinds: [], words: 'not answered yet' }
      : { status: 'missed', kinds: [], words: 'did not sign' };
  }
  return { status: 'absent', kinds: [], words: 'not in this table version' };
}

const CELL_TEXT = { signed: '✓', rejected: '✗', missed: '–', pending: '…', superseded: '·', absent: '' };

function renderGrid(checkpoints) {
  // Oldest on the left, so new checkpoints appear on the right.
  const columns = [...checkpoints].reverse();
  const operators = [...new Set(columns.flatMap((c) => [...c.signers, ...c.missing]))].sort();
  const head = [el('th', { scope: 'col' }, 'Operator')].concat(
    columns.map((c) =>
      el(
        'th',
        { scope: 'col', className: `col ${c.state}`, title: `checkpoint ${c.proposal.checkpointId}: ${c.state}` },
        String(c.proposal.checkpointId),
      ),
    ),
  );
  document.getElementById('grid-head').replaceChildren(...head);
  const rows = operators.map((operator) => {
    const cells = columns.map((checkpoint) => {
      const { status, kinds, words } = participation(checkpoint, operator);
      const letters = kinds.map((k) => REASON_LETTERS[k] || '?').join('');
      const label = `${operator}, checkpoint ${checkpoint.proposal.checkpointId}: ${words}`;
      return el(
        'td',
        {
          className: `cell ${status}`,
          title: label,
          attrs: { 'aria-label': label },
          dataset: {
            testid: 'grid-cell',
            operator,
            checkpointId: String(checkpoint.proposal.checkpointId),
            status,
            reasons: kinds.join(','),
          },
        },
        CELL_TEXT[status],
        letters ? el('sub', {}, letters) : null,
      );
    });
    return el(
      'tr',
      { dataset: { testid: 'grid-row', operator } },
      el('th', { scope: 'row', dataset: { testid: 'grid-operator' } }, short(operator, 4)),
      ...cells,
    );
  });
  document
    .getElementById('grid-body')
    .replaceChildren(...(rows.length ? rows : [emptyRow(1, 'No operator table yet.')]));
}

function renderDivergences(divergences) {
  const rows = divergences.map((d) =>
    el(
      'tr',
      { dataset: { testid: 'divergence-row', checkpointId: String(d.checkpointId), operator: d.operator } },
      el('th', { scope: 'row', className: 'num' }, `#${d.checkpointId}`),
      el('td', {}, short(d.operator, 4)),
      el('td', { className: 'num' }, String(d.proposed.rollupId)),
      el('td', { className: 'num' }, integer(d.proposed.l2BlockNumber)),
      el('td', {}, short(d.proposed.stateRoot, 6)),
      el('td', { className: 'bad' }, short(d.theirs.stateRoot, 6)),
    ),
  );
  document
    .getElementById('divergences-body')
    .replaceChildren(...(rows.length ? rows : [emptyRow(6, 'No divergence reported: every operator agrees.')]));
}

setInterval(showConnection, 500);
poll();
