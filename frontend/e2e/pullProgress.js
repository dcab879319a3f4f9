// @ts-check
// Helpers for the browser tests of model downloads: they record every state
// of the page's progress bars, and slow down the download's progress lines
// so that the page draws more than the last one.

/**
 * The states of the download's progress bars that the page went through,
 * as recorded by recordProgress.
 *
 * @typedef {{ label: string, value: number | null, max: number | null }} ProgressSample
 */

/**
 * Records in the page every state of every progress bar from now on. The
 * fake Ollama sends its progress without delays, so a poll from the test
 * could miss every state between the first and the last.
 *
 * @param {import("playwright-core").Page} page
 */
export async function recordProgress(page) {
  await page.evaluate(() => {
    /** @type {Array<{ label: string, value: number | null, max: number | null }>} */
    const samples = [];
    Object.assign(window, { progressSamples: samples });
    const sample = () => {
      for (const bar of document.querySelectorAll("progress")) {
        const label = bar.id === "" ? "" : (document.querySelector(`label[for="${CSS.escape(bar.id)}"]`)?.textContent ?? "");
        samples.push({
          label,
          value: bar.hasAttribute("value") ? bar.value : null,
          max: bar.hasAttribute("max") ? bar.max : null,
        });
      }
    };
    new MutationObserver(sample).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

/**
 * @param {import("playwright-core").Page} page
 * @returns {Promise<ProgressSample[]>}
 */
export async function progressSamples(page) {
  return page.evaluate(() => /** @type {ProgressSample[]} */ (Reflect.get(window, "progressSamples")));
}

/**
 * Makes the page receive the lines of POST /api/models/pull pauseMs apart.
 * The fake Ollama sends a whole download's progress at once, and React
 * draws the lines of one read together, so without the pause the page
 * would draw only the last one. It wraps the page's fetch, which the API
 * client calls for every request, until the page reloads.
 *
 * @param {import("playwright-core").Page} page
 * @param {number} [pauseMs]  Pause before each line, in milliseconds.
 */
export async function spacePullLines(page, pauseMs = 150) {
  await page.evaluate((pause) => {
    const originalFetch = window.fetch.bind(window);
    window.fetch = async (input, init) => {
      const response = await originalFetch(input, init);
      if (!String(input).endsWith("/api/models/pull") || response.body === null) {
        return response;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const encoder = new TextEncoder();
      let buffer = "";
      const spaced = new ReadableStream({
        async pull(controller) {
          for (;;) {
            const end = buffer.indexOf("\n");
            if (end !== -1) {
              const line = buffer.slice(0, end + 1);
              buffer = buffer.slice(end + 1);
              await new Promise((resolve) => setTimeout(resolve, pause));
              controller.enqueue(encoder.encode(line));
              return;
            }
            const { done, value } = await reader.read();
            if (done) {
              if (buffer !== "") {
                controller.enqueue(encoder.encode(buffer));
              }
              controller.close();
              return;
            }
            buffer += decoder.decode(value, { stream: true });
          }
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      });
      return new Response(spaced, { status: response.status, statusText: response.statusText, headers: response.headers });
    };
  }, pauseMs);
}
