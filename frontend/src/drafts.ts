/**
 * The unsent text of the composer by thread id, so that a draft comes back
 * when its thread is opened again. It lives in memory only: the workspace
 * owns one, and signing out or reloading the page drops the drafts.
 */
export class DraftStore {
  private readonly drafts = new Map<string, string>();

  /** Returns the draft of a thread, or "" when it has none. */
  get(threadId: string): string {
    return this.drafts.get(threadId) ?? "";
  }

  /** Stores the draft of a thread. An empty draft, such as after sending, removes the entry. */
  set(threadId: string, text: string): void {
    if (text === "") {
      this.drafts.delete(threadId);
    } else {
      this.drafts.set(threadId, text);
    }
  }
}
