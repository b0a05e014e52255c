/**
 * The results page's browser script (served as /app.js): polls /api/builds and redraws the table with DOM calls and
 * textContent only, so nothing from a build record is ever parsed as HTML.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  var table = document.getElementById('builds');
  var poll = Number(document.body.getAttribute('data-poll-ms')) || 2000;
  function cell(tr, text, cls) {
    var td = document.createElement('td');
    if (cls) td.className = cls;
    if (text !== null && text !== undefined) td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function link(td, href, text) {
    var a = document.createElement('a');
    a.href = href;
    a.textContent = text;
    td.appendChild(a);
    return a;
  }
  function draw(builds) {
    var body = document.createElement('tbody');
    builds.forEach(function (b) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-build', b.buildId);
      tr.className = 'build status-' + b.status;
      cell(tr, b.modelId);
      link(cell(tr, null), b.page, b.buildId.slice(0, 12));
      cell(tr, b.status, 'status');
      cell(tr, b.stages.map(function (s) { return s.name + ':' + s.status; }).join(' '), 'stages');
      cell(tr, b.verdictLine || b.headline || b.error || '', 'verdict').title = b.outcome || '';
      var r = cell(tr, null, 'report');
      if (b.report) link(r, b.report, 'report').className = 'report-link';
      cell(tr, b.createdAt, 'when');
      body.appendChild(tr);
    });
    var old = table.tBodies[0];
    if (old) table.replaceChild(body, old); else table.appendChild(body);
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  }
  function tick() {
    fetch('/api/builds', { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(draw)
      .catch(function () { document.getElementById('updated').textContent = 'cannot reach the server'; })
      .then(function () { setTimeout(tick, poll); });
  }
  setTimeout(tick, poll);
})();
`;
