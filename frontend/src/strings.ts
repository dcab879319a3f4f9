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
    confirmPassword: "Confirm password",
    submit: "Create profile",
    submitting: "Creating profile…",
    nameMissing: "Enter a name for your profile.",
  },

  newPassword: {
    tooShort: (min: number) => `The password needs at least ${min} characters.`,
    differ: "The two passwords do not match.",
  },

  passwordStrength: {
    empty: (min: number) =>
      `Use at least ${min} characters. A long password, or one that mixes letters, digits and symbols, is harder to guess.`,
    tooShort: (count: number, min: number) => `Too short: ${count} of at least ${min} characters.`,
    weak: "Weak: easy to guess. Make it longer, or mix upper and lower case letters, digits and symbols.",
    fair: "Fair. A few more characters, or another kind of character, would make it stronger.",
    strong: "Strong.",
  },

  recoveryKey: {
    title: "Save your recovery key",
    newTitle: "Save your new recovery key",
    intro:
      "With this key you can set a new password if you forget yours. Hearth shows it only now: it cannot show it again.",
    replaced: "Your old recovery key no longer works. Only this new one does.",
    label: "Recovery key",
    copy: "Copy",
    copied: "The recovery key was copied to the clipboard.",
    copyFailed: "The recovery key could not be copied. Select it above and copy it yourself.",
    warning:
      "Keep it somewhere safe and apart from your password, such as in a password manager or on paper. If you lose both your password and this recovery key, the data of this profile is lost for good: nobody can get it back, not even an administrator.",
    confirm: "I have saved my recovery key",
    continue: "Continue",
    continuing: "Signing in…",
  },

  picker: {
    title: "Who is using Hearth?",
    intro: "Choose your profile.",
    profilesLabel: "Profiles",
    administrator: "Administrator",
    signedOut: "You are signed out.",
    locked: "Hearth is locked. Enter your password to continue.",
    sessionEnded: "Your session has ended. Sign in again.",
    signOutFailed: (reason: string) =>
      `Hearth's server may still count you as signed in, because signing out failed: ${reason}`,
  },

  signIn: {
    title: (name: string) => `Sign in as ${name}`,
    password: "Password",
    submit: "Sign in",
    submitting: "Signing in…",
    back: "Choose another profile",
    passwordMissing: "Enter your password.",
    forgotPassword: "Forgot password?",
  },

  recover: {
    title: (name: string) => `Set a new password for ${name}`,
    intro:
      "Enter the recovery key you saved when the profile was created, or the last one Hearth gave you, and choose a new password. Your chats are kept.",
    recoveryKey: "Recovery key",
    newPassword: "New password",
    confirmPassword: "Confirm new password",
    oldKeyNote: "Afterwards this recovery key no longer works: Hearth shows you a new one to save.",
    submit: "Set new password",
    submitting: "Setting the new password…",
    back: "Back to sign in",
    keyMissing: "Enter your recovery key.",
  },

  retry: {
    tryAgainIn: (seconds: number) =>
      seconds === 1 ? "Try again in 1 second." : `Try again in ${seconds} seconds.`,
  },

  unlock: {
    title: "Hearth is locked",
    intro: (name: string) =>
      `The profile ${name} is locked to protect its data. Enter its password to continue where you left off.`,
    password: "Password",
    submit: "Unlock",
    submitting: "Unlocking…",
    switchProfile: "Switch profile",
    passwordMissing: "Enter your password.",
  },

  changePassword: {
    open: "Change password",
    title: "Change password",
    current: "Current password",
    newPassword: "New password",
    confirmPassword: "Confirm new password",
    submit: "Change password",
    submitting: "Changing password…",
    cancel: "Cancel",
    currentMissing: "Enter your current password.",
    done: "Your password was changed. Every other session of this profile was signed out, and your recovery key stays the same.",
    close: "Close",
  },

  workspace: {
    signedInAs: (name: string) => `Signed in as ${name}`,
    switchProfile: "Switch profile",
    lock: "Lock",
    signOut: "Sign out",
    signingOut: "Signing out…",
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
    sessionReplaced: "Someone signed in or out of Hearth in another tab or window, which ended this page's session. Sign in again.",
    httpStatus: (status: number) => `The request failed with HTTP status ${status}.`,
  },
} as const;
