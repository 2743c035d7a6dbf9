// The benchmark's table, from bench/results.json's shape. Medians over rounds everywhere; a ratio
// to direct is the median of per-round ratios (each proxied round paired with the direct round
// taken next to it), so slow drifts of the machine cancel out.

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Per scenario and path: median req/s, p50, p99, ratio to direct, and proxy CPU per request. */
export function summarize(scenario) {
  const direct = scenario.rounds.direct;
  const out = {};
  for (const [target, rounds] of Object.entries(scenario.rounds)) {
    const cpu = rounds.filter((r) => r.cpuUs !== undefined).map((r) => r.cpuUs);
    out[target] = {
      rps: median(rounds.map((r) => r.rps)),
      p50: median(rounds.map((r) => r.p50)),
      p99: median(rounds.map((r) => r.p99)),
      vsDirect: median(rounds.map((r, i) => r.rps / direct[i].rps)),
      cpuUsPerRequest: cpu.length ? median(cpu) : undefined,
      // What the path adds to a request, in µs (sequential: the latency a client waits for; with
      // concurrency, the throughput cost): median of per-round differences to the direct round.
      addedUs: median(rounds.map((r, i) => (1e6 / r.rps - 1e6 / direct[i].rps) * scenario.concurrency)),
    };
  }
  return out;
}

/** keygate's added µs per request divided by the floor relay's, per round pair (the aim: ≤ 1.25). */
export function versusFloor(scenario) {
  const { direct, keygate, floor } = scenario.rounds;
  if (!floor) return undefined;
  return median(keygate.map((k, i) => (1 / k.rps - 1 / direct[i].rps) / (1 / floor[i].rps - 1 / direct[i].rps)));
}

export function printReport(results, print) {
  const m = results.machine;
  const pad = (text, width) => String(text).padEnd(width);
  const num = (value, width, digits = 0) => (value === undefined ? '' : value.toFixed(digits)).padStart(width);
  print('');
  print(`keygate benchmark, ${results.date}${results.quick ? ' (--quick: one short round, not for comparison)' : ''}`);
  print(`machine: ${m.nproc} CPUs (${m.cpu}), ${m.memoryGb} GB, ${m.kernel}, node ${m.node}${m.mitmproxy ? `, ${m.mitmproxy}` : ''}`);

  print('');
  print('Throughput: GET /api/v10/users/@me over HTTPS, undici client in its own process; medians of rounds');
  print("(tunnel: keygate's blind tunnel to the same server, nothing intercepted: what one extra hop costs;");
  print(" floor: bench/floor-relay.js, the smallest TLS-terminating relay that sets the header, on Node's HTTP)");
  print(
    `${pad('scenario', 36)}${pad('path', 11)}${'req/s'.padStart(7)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'vs direct'.padStart(11)}${'added µs'.padStart(10)}${'proxy CPU/req'.padStart(15)}`,
  );
  const versus = [];
  const floors = [];
  for (const scenario of results.throughput) {
    const summary = summarize(scenario);
    let first = true;
    for (const [target, s] of Object.entries(summary)) {
      const label = first ? `${scenario.name} (${scenario.rounds.direct.length}×${scenario.requests})` : '';
      first = false;
      const cpu = s.cpuUsPerRequest === undefined ? '' : `${s.cpuUsPerRequest.toFixed(0)} µs`;
      print(
        `${pad(label, 36)}${pad(target, 11)}${num(s.rps, 7)}${num(s.p50, 9, 2)}${num(s.p99, 9, 2)}${(target === 'direct' ? '' : s.vsDirect.toFixed(2)).padStart(11)}${(target === 'direct' ? '' : s.addedUs.toFixed(0)).padStart(10)}${cpu.padStart(15)}`,
      );
    }
    const ratio = versusFloor(scenario);
    if (ratio !== undefined) floors.push(`${scenario.name} ${ratio.toFixed(2)}`);
    if (summary.mitmproxy) versus.push(`${scenario.name} ${(summary.keygate.rps / summary.mitmproxy.rps).toFixed(1)}×`);
  }
  if (floors.length) print(`keygate's added time ÷ the floor relay's (aim ≤ 1.25): ${floors.join(', ')}`);
  if (versus.length) print(`keygate ÷ mitmproxy, req/s: ${versus.join(', ')}`);

  print('');
  print(`Start-up: wall time, median of ${results.startup[0].runs.length} runs`);
  const node = results.startup.find((c) => c.name === 'node -e 0').median;
  const bare = results.startup.find((c) => c.name === 'true').median;
  print(`${pad('command', 38)}${'ms'.padStart(8)}${'vs node -e 0'.padStart(14)}`);
  for (const c of results.startup) {
    const extra =
      c.name.startsWith('keygate run') || c.name.startsWith('bwrap') ? `   adds ${(c.median - bare).toFixed(0)} ms to \`true\`` : '';
    // A row may name its own baseline: `node -e 0` run with the same environment.
    const base = c.baseline ? (results.startup.find((b) => b.name === c.baseline)?.median ?? node) : node;
    const note = c.baseline ? `   (÷ ${c.baseline})` : '';
    print(`${pad(c.name, 38)}${num(c.median, 8, 1)}${(c.name === 'true' ? '' : (c.median / base).toFixed(2)).padStart(14)}${extra}${note}`);
  }
  // The sandbox's cost: paired per run (the two commands run back to back), so machine noise that
  // hits both cancels out.
  const sandboxed = results.startup.find((c) => c.name === 'keygate run -- true');
  const open = results.startup.find((c) => c.name === 'keygate run --no-sandbox -- true');
  if (sandboxed && open) {
    const paired = median(sandboxed.runs.map((ms, i) => ms - open.runs[i]));
    const bwrap = results.startup.find((c) => c.name.startsWith('bwrap'));
    print(
      `the sandbox adds ${paired.toFixed(1)} ms to \`keygate run -- true\` (median of paired CLI runs)${bwrap ? `; bwrap alone adds ${(bwrap.median - bare).toFixed(1)} ms to \`true\`` : ''}`,
    );
  }
  const spawn = results.sandbox;
  if (spawn) {
    print(
      `sandbox share of starting the command (runChild, ${spawn.sandboxed.length} alternating runs): ${spawn.sandboxedMedian.toFixed(1)} ms sandboxed vs ` +
        `${spawn.directMedian.toFixed(1)} ms direct, +${spawn.pairedMedian.toFixed(1)} ms (paired median)`,
    );
  }

  const runs = results.refresh.map((r) => {
    const before = median(r.before.map((b) => b.p50));
    const bursts = [...r.before, r.at, ...r.after];
    return {
      refreshes: r.refreshes,
      invalidGrants: r.invalidGrants,
      before,
      at: r.at,
      extra: r.at.p50 - before,
      ok: bursts.reduce((n, b) => n + b.ok, 0),
      total: bursts.reduce((n, b) => n + b.n, 0),
    };
  });
  print('');
  print(
    `Refresh under load: bursts of ${results.refresh[0].at.n} concurrent requests, one of them as the token goes stale; ${runs.length} runs`,
  );
  print(
    `refreshes made: ${runs.map((r) => r.refreshes).join(', ')} (one per run expected), invalid_grant: ${runs.reduce((n, r) => n + r.invalidGrants, 0)}, responses: ${runs.reduce((n, r) => n + r.ok, 0)}/${runs.reduce((n, r) => n + r.total, 0)} × 200`,
  );
  print(
    `burst p50 before the refresh ${median(runs.map((r) => r.before)).toFixed(1)} ms, at it ${median(runs.map((r) => r.at.p50)).toFixed(1)} ms: +${median(runs.map((r) => r.extra)).toFixed(1)} ms for the waiting requests (median; runs: ${runs.map((r) => `+${r.extra.toFixed(0)}`).join(', ')} ms)`,
  );

  const mem = results.memory;
  const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;
  print('');
  print(
    `Memory: keygate run (proxy and all) RSS ${mb(mem.keygate.idle.rssKb)} before load, peak ${mb(mem.keygate.after32.hwmKb)} (VmHWM) after 32 connections` +
      (mem.mitmproxy ? `; mitmdump peak ${mb(mem.mitmproxy.hwmKb)}` : ''),
  );
  print('');
  print(`${results.seconds.toFixed(0)} s in all; written to bench/results.json`);
}
