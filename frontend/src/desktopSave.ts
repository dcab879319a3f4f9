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
