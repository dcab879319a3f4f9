import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App, loadStartScreen, type Screen } from "./components/App.tsx";
import { applyTheme } from "./theme.ts";
import "./styles.css";

// How long the page waits for its first screen's data before it renders the
// loading screen instead, in milliseconds. The desktop window's server
// usually responds within a few, and rendering the first screen directly
// saves a render and layout of the loading screen.
const loadingScreenDelayMs = 200;

const container = document.getElementById("root");
if (container === null) {
  throw new Error('index.html has no element with id "root".');
}
const root = createRoot(container);

let rendered = false;
function render(start: { screen: Screen } | { loading: Promise<Screen> }) {
  if (rendered) {
    return;
  }
  rendered = true;
  root.render(
    <StrictMode>
      <App start={start} />
    </StrictMode>,
  );
}

// The first requests start before React renders anything. The theme of the
// screens before sign-in is set before the first render too, so that a
// system in dark mode never shows the light colours first.
const loading = loadStartScreen();
applyTheme("system");
void loading.then((screen) => render({ screen }));
window.setTimeout(() => render({ loading }), loadingScreenDelayMs);
