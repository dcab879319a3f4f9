import { describe, expect, it } from "vitest";

import type { ThreadExport } from "./api.ts";
import { findSaveFileBinding, saveExport, saveTextFile, type BindingHost } from "./desktopSave.ts";

const markdownExport: ThreadExport = {
  blob: new Blob(["# Trip plans\n\nRéunion à 9 h.\n"], { type: "text/markdown" }),
  fileName: "Trip plans.md",
};

// recordingDownload returns a download function and the exports passed to it.
function recordingDownload(): { download: (file: ThreadExport) => void; downloads: ThreadExport[] } {
  const downloads: ThreadExport[] = [];
  return { download: (file) => downloads.push(file), downloads };
}

// desktopHost returns a window as Wails fills it, whose SaveFile records its
// arguments and settles as result does.
function desktopHost(result: () => Promise<unknown>): { host: BindingHost; calls: [string, string][] } {
  const calls: [string, string][] = [];
  const host: BindingHost = {
    go: {
      main: {
        FileSaver: {
          SaveFile: (suggestedName: string, content: string) => {
            calls.push([suggestedName, content]);
            return result();
          },
        },
      },
    },
  };
  return { host, calls };
}

describe("findSaveFileBinding", () => {
  it("finds SaveFile in the desktop window", () => {
    const { host } = desktopHost(() => Promise.resolve(true));

    expect(findSaveFileBinding(host)).toBeTypeOf("function");
  });

  it.each<[string, BindingHost]>([
    ["no window.go", {}],
    ["no main package", { go: {} }],
    ["no FileSaver", { go: { main: {} } }],
    ["no SaveFile", { go: { main: { FileSaver: {} } } }],
    ["a SaveFile that is not a function", { go: { main: { FileSaver: { SaveFile: "SaveFile" } } } }],
  ])("returns null with %s", (_case, host) => {
    expect(findSaveFileBinding(host)).toBeNull();
  });

  it("returns null in a page without Wails", () => {
    expect(findSaveFileBinding()).toBeNull();
  });
});

describe("saveExport", () => {
  it("downloads without the binding", async () => {
    const { download, downloads } = recordingDownload();

    const outcome = await saveExport(markdownExport, download, {});

    expect(outcome).toBe("downloaded");
    expect(downloads).toEqual([markdownExport]);
  });

  it("saves through the binding with the name and text", async () => {
    const { download, downloads } = recordingDownload();
    const { host, calls } = desktopHost(() => Promise.resolve(true));

    const outcome = await saveExport(markdownExport, download, host);

    expect(outcome).toBe("saved");
    expect(calls).toEqual([["Trip plans.md", "# Trip plans\n\nRéunion à 9 h.\n"]]);
    expect(downloads).toEqual([]);
  });

  it("reports a cancelled dialog", async () => {
    const { download, downloads } = recordingDownload();
    const { host } = desktopHost(() => Promise.resolve(false));

    const outcome = await saveExport(markdownExport, download, host);

    expect(outcome).toBe("cancelled");
    expect(downloads).toEqual([]);
  });

  it("turns the Go error's text into an Error", async () => {
    const { download, downloads } = recordingDownload();
    const { host } = desktopHost(() => Promise.reject("cannot write in the folder /home/ada: permission denied"));

    const saving = saveExport(markdownExport, download, host);

    await expect(saving).rejects.toThrow(new Error("cannot write in the folder /home/ada: permission denied"));
    expect(downloads).toEqual([]);
  });

  it("keeps an Error rejection as it is", async () => {
    const { download } = recordingDownload();
    const failure = new TypeError("bridge gone");
    const { host } = desktopHost(() => Promise.reject(failure));

    await expect(saveExport(markdownExport, download, host)).rejects.toBe(failure);
  });
});

describe("saveTextFile", () => {
  it("saves the text through the binding", async () => {
    const { host, calls } = desktopHost(() => Promise.resolve(true));

    const outcome = await saveTextFile("hearth-backup-codes.txt", "aaaa-bbbb-cc\ndddd-eeee-ff\n", host);

    expect(outcome).toBe("saved");
    expect(calls).toEqual([["hearth-backup-codes.txt", "aaaa-bbbb-cc\ndddd-eeee-ff\n"]]);
  });

  it("reports a cancelled dialog", async () => {
    const { host } = desktopHost(() => Promise.resolve(false));

    expect(await saveTextFile("hearth-backup-codes.txt", "aaaa-bbbb-cc\n", host)).toBe("cancelled");
  });
});
