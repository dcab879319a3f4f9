// All user-visible text of the interface, kept in one module so that it can be
// translated later. Sentences that the server sends (error messages, the
// errorText of a failed reply) are shown as they arrive and are not listed here.

export const strings = {
  appName: "Hearth",

  loading: {
    profiles: "Loading profiles…",
    thread: "Loading the chat…",
    threads: "Loading chats…",
  },

  startup: {
    loadFailed: (reason: string) => `Hearth could not load the profiles: ${reason}`,
    retry: "Try again",
  },

  firstRun: {
    title: "Create your profile",
    intro:
      "Nobody uses Hearth on this computer yet. The first profile is the administrator: it can add profiles for the other people who share this computer.",
    name: "Name",
    password: "Password",
    passwordHint: "At least 8 characters.",
    confirmPassword: "Confirm password",
    submit: "Create profile",
    submitting: "Creating profile…",
    nameMissing: "Enter a name for your profile.",
    passwordTooShort: "The password needs at least 8 characters.",
    passwordsDiffer: "The two passwords do not match.",
  },

  picker: {
    title: "Who is using Hearth?",
    intro: "Choose your profile.",
    profilesLabel: "Profiles",
    administrator: "Administrator",
    signedOut: "You are signed out.",
    sessionEnded: "Your session has ended. Sign in again.",
  },

  signIn: {
    title: (name: string) => `Sign in as ${name}`,
    password: "Password",
    submit: "Sign in",
    submitting: "Signing in…",
    back: "Choose another profile",
    passwordMissing: "Enter your password.",
  },

  workspace: {
    signedInAs: (name: string) => `Signed in as ${name}`,
    switchProfile: "Switch profile",
    signOut: "Sign out",
    threadsLabel: "Chats",
    newChat: "New chat",
    noThreads: "No chats yet.",
    threadsFailed: (reason: string) => `The chats could not be loaded: ${reason}`,
    newChatFailed: (reason: string) => `A new chat could not be started: ${reason}`,
    retry: "Try again",
    emptyTitle: "Start a conversation",
    emptyIntro: "Choose a chat on the left, or start a new one.",
  },

  chat: {
    messagesLabel: "Messages",
    noMessages: "No messages yet. Write the first one below.",
    loadFailed: (reason: string) => `This chat could not be loaded: ${reason}`,
    olderMessagesHidden: (shown: number, total: number) =>
      `Showing the last ${shown} of ${total} messages.`,
    stop: "Stop",
    connectionClosed: "The connection closed before the reply was complete.",
    unreadableReply: "Hearth sent a reply that this page could not read. Reload the page and try again.",
  },

  composer: {
    label: "Message",
    placeholder: "Write a message. Enter sends it, Shift+Enter starts a new line.",
    send: "Send",
  },

  message: {
    you: "You",
    assistant: "Hearth",
    writing: "Writing a reply…",
    stopped: "Stopped. This reply is incomplete.",
    failed: "This reply failed.",
  },

  errors: {
    network: "Hearth's server could not be reached. Check that Hearth is still running.",
    invalidResponse: "Hearth's server sent a response that could not be read.",
    httpStatus: (status: number) => `The request failed with HTTP status ${status}.`,
  },
} as const;
