// Saving exports inside the desktop window. A download that the page starts
// through a Blob URL may do nothing in the window's web view. So there the
// page calls the Go method FileSaver.SaveFile (desktop_save.go), which shows
// a native save dialog and writes the file the user chooses. In a browser on
// `hearth serve` that binding is absent and the page downloads the file.

import type { ThreadExport } from "./api.ts";

/**
 * FileSaver.SaveFile as Wails v2 binds it into the page: it resolves to true
 * once the file is written and to false when the user cancels the dialog, and
 * it rejects with the Go error's text.
 */
export type SaveFileBinding = (suggestedName: string, content: string) => Promise<boolean>;

/**
 * The part of `window` where Wails v2 puts the bound Go methods, under the Go
 * package name and the struct name. The page is built without Wails' generated
 * wrappers, so it reads them from here.
 */
export interface BindingHost {
  go?: { main?: { FileSaver?: { SaveFile?: unknown } } };
}

/** Result of saving an export: saved or cancelled in the desktop window's dialog, or downloaded by a browser. */
export type SaveOutcome = "saved" | "cancelled" | "downloaded";

/** Returns the desktop window's SaveFile binding, or null outside the window. */
export function findSaveFileBinding(host: BindingHost = globalThis as BindingHost): SaveFileBinding | null {
  const saveFile = host.go?.main?.FileSaver?.SaveFile;
  return typeof saveFile === "function" ? (saveFile as SaveFileBinding) : null;
}

/**
 * Saves an export through the desktop window's save dialog when the binding
 * is there, and otherwise passes it to download. The content is sent to Go
 * as text, which holds for the Markdown and JSON exports.
 */
export async function saveExport(
  file: ThreadExport,
  download: (file: ThreadExport) => void,
  host?: BindingHost,
): Promise<SaveOutcome> {
  const saveFile = findSaveFileBinding(host);
  if (saveFile === null) {
    download(file);
    return "downloaded";
  }

  const content = await file.blob.text();
  let saved: unknown;
  try {
    saved = await saveFile(file.fileName, content);
  } catch (err) {
    // Wails rejects with the Go error's text, not with an Error.
    throw err instanceof Error ? err : new Error(String(err));
  }
  return saved === true ? "saved" : "cancelled";
}

// How long the object URL of a downloaded file stays valid. The browser has
// started the download by then, and revoking the URL frees the file's memory.
const exportUrlLifetimeMs = 30_000;

/**
 * Downloads a file through an object URL, under its fileName, such as the
 * name the server chose for an export.
 * NOTE: this is the browser's download path. Whether the desktop window's
 * web view saves a download started this way has not been tested.
 */
export function downloadFile({ blob, fileName }: ThreadExport) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), exportUrlLifetimeMs);
}

/**
 * Saves text as a file named fileName: through the desktop window's save
 * dialog, or as a download in a browser.
 */
export function saveTextFile(fileName: string, text: string, host?: BindingHost): Promise<SaveOutcome> {
  const file: ThreadExport = { blob: new Blob([text], { type: "text/plain;charset=utf-8" }), fileName };
  return saveExport(file, downloadFile, host);
}
