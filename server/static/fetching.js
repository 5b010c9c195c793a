// A page waiting for papers (fetching, or arXiv failing) long-polls the server and
// reloads the moment their state changes, so a paper appears as soon as it lands.
// While arXiv fails, the polls back off (5 s, 10 s, ... at most a minute apart).
(() => {
  const script = document.currentScript;
  const seen = script && script.dataset.watch;
  if (!seen || !window.fetch) return;
  const failing = /(^|,)failed:/.test(seen) && !/(^|,)fetching:/.test(seen);
  const url = location.pathname + "?poll=" + encodeURIComponent(seen);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  let pause = 0;
  (async () => {
    for (;;) {
      const asked = Date.now();
      try {
        const response = await fetch(url, { cache: "no-store" });
        if (!response.ok) throw new Error(String(response.status));
        if ((await response.json()).changed) {
          location.reload();
          return;
        }
        // A poll the server could not hold open comes back at once: wait a little then.
        const quick = Date.now() - asked < 1000 ? 2000 : 0;
        pause = failing ? Math.min(60000, Math.max(5000, pause * 2)) : quick;
      } catch (_error) {
        pause = Math.min(60000, Math.max(1000, pause * 2));
      }
      if (pause) await sleep(pause);
    }
  })();
})();
