// All user-visible text of the interface, kept in one module so that it can be
// translated later. Sentences that the server sends (error messages, the
// errorText of a failed reply) are shown as they arrive and are not listed here.

export const strings = {
  appName: "Hearth",

  loading: {
    memory: "Loading the memory settings…",
    profiles: "Loading profiles…",
    thread: "Loading the chat…",
    threads: "Loading chats…",
    workspace: "Opening your chats…",
  },

  startup: {
    loadFailed: (reason: string) => `Hearth could not load the profiles: ${reason}`,
    retry: "Try again",
    // The signed-in screen, whose code loads after the first screen, could not be shown.
    workspaceFailed: (reason: string) => `Hearth could not show your chats: ${reason}`,
    reload: "Reload",
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
    // The key of a profile that an administrator created for someone else,
    // shown to the administrator.
    givenTo: {
      title: (name: string) => `Recovery key for ${name}`,
      intro: (name: string) =>
        `Give this recovery key to ${name}. With it, ${name} can set a new password if they forget theirs. Hearth shows it only now: it cannot show it again.`,
      warning: (name: string) =>
        `${name} should keep it somewhere safe and apart from the password, such as in a password manager or on paper. Whoever loses both the password and this recovery key loses the data of this profile for good: nobody can get it back, not even an administrator.`,
      confirm: (name: string) => `I have saved this recovery key for ${name}`,
      done: "Done",
    },
  },

  picker: {
    title: "Who is using Hearth?",
    intro: "Choose your profile.",
    profilesLabel: "Profiles",
    administrator: "Administrator",
    signedOut: "You are signed out.",
    locked: "Hearth is locked. Enter your password to continue.",
    sessionEnded: "Your session has ended. Sign in again.",
    profileDeleted: "Your profile and its conversations were deleted.",
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

  // The second step of signing in, or of unlocking, for a profile with
  // two-step sign-in, and the code fields wherever a code is asked for.
  twoStep: {
    appIntro:
      "Two-step sign-in is on for this profile. Open the authenticator app on your phone and enter the code it shows for Hearth.",
    backupIntro:
      "Enter one of the backup codes you saved when you turned on two-step sign-in. Each backup code works only once.",
    appCode: "Code from the app",
    backupCode: "Backup code",
    useBackupCode: "Use a backup code instead",
    useAppCode: "Use a code from the app instead",
    submit: "Verify",
    submitting: "Verifying…",
    back: "Back to the password",
    appCodeMissing: "Enter the code from your authenticator app.",
    appCodeInvalid: (digits: number) => `A code from the app has ${digits} digits. Enter the code the app shows now.`,
    backupCodeMissing: "Enter one of your backup codes.",
    backupCodeInvalid: (length: number) =>
      `A backup code has ${length} letters and digits. Dashes and spaces do not matter.`,
    eitherCode: "Code from the app, or a backup code",
    eitherCodeMissing: "Enter the code from your authenticator app, or one of your backup codes.",
    eitherCodeInvalid: (digits: number, length: number) =>
      `Enter the ${digits}-digit code from your authenticator app, or a backup code of ${length} letters and digits.`,
    challengeExpired:
      "The sign-in expired, because 5 minutes passed or too many codes were wrong. Enter your password again.",
    // A profile made a moment ago cannot have two-step sign-in on.
    unexpectedChallenge: "Hearth asked for a code that this new profile cannot have. Sign in from the list of profiles.",
  },

  recover: {
    title: (name: string) => `Set a new password for ${name}`,
    intro:
      "Enter the recovery key you saved when the profile was created, or the last one Hearth gave you, and choose a new password. Your chats are kept.",
    twoStepNote:
      "If two-step sign-in is on for this profile, setting a new password with the recovery key also turns it off, so that a lost phone does not lock your chats away.",
    twoStepDisabled:
      "Two-step sign-in is now off for this profile, and the entry for Hearth in your authenticator app no longer works. To turn it on again, open Settings and go to Security.",
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
    // Waits of two minutes or more are rounded up to whole minutes, so that
    // the text never names a time before the wait is over.
    tryAgainIn: (seconds: number) => {
      if (seconds >= 120) {
        return `Try again in ${Math.ceil(seconds / 60)} minutes.`;
      }
      return seconds === 1 ? "Try again in 1 second." : `Try again in ${seconds} seconds.`;
    },
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
    codeHint: "Two-step sign-in is on, so changing the password also needs a current code.",
    done: "Your password was changed. Every other session of this profile was signed out, and your recovery key stays the same.",
    close: "Close",
  },

  // Replacing the recovery key, a step of the Change password dialog.
  renewRecoveryKey: {
    offer: "Lost your recovery key, or think someone else has seen it? Create a new one.",
    open: "New recovery key",
    title: "New recovery key",
    intro:
      "A new recovery key replaces the one you have, which stops working at once. Your password and your chats stay as they are.",
    password: "Your password",
    passwordMissing: "Enter your password to create a new recovery key.",
    codeHint:
      "Two-step sign-in is on, and a recovery key can turn it off, so a new recovery key also needs a current code.",
    submit: "Create new recovery key",
    submitting: "Creating recovery key…",
    cancel: "Cancel",
    done: "Done",
  },

  profiles: {
    open: "Profiles",
    title: "Profiles",
    intro:
      "Everyone who shares this computer can have a profile. A profile's conversations open only with its password or its recovery key, and an administrator can see neither.",
    tableCaption: "Profiles on this computer",
    nameColumn: "Name",
    roleColumn: "Role",
    actionsColumn: "Actions",
    you: "(you)",
    roleAdmin: "Administrator",
    roleUser: "User",
    makeAdmin: "Make administrator",
    makeUser: "Make user",
    delete: "Delete",
    add: "Add profile",
    close: "Close",
    loadFailed: (reason: string) => `The profiles could not be loaded: ${reason}`,
    retry: "Try again",
    created: (name: string) => `The profile ${name} was added. ${name} can now sign in with the password you chose.`,
    nowAdmin: (name: string) => `${name} is now an administrator.`,
    nowUser: (name: string) => `${name} is now a user.`,
    deleted: (name: string) => `The profile ${name} and its conversations were deleted.`,
  },

  addProfile: {
    title: "Add a profile",
    intro:
      "Choose a name and a first password for the person who will use this profile, and tell them the password. They can change it after signing in.",
    name: "Name",
    password: "Password",
    confirmPassword: "Confirm password",
    submit: "Add profile",
    submitting: "Adding profile…",
    cancel: "Cancel",
    nameMissing: "Enter a name for the profile.",
  },

  deleteProfile: {
    title: (name: string) => `Delete ${name}?`,
    warning: (name: string) =>
      `This deletes the profile ${name} and erases all of its conversations. They cannot be recovered: not with the password, not with the recovery key, not by an administrator.`,
    submit: (name: string) => `Delete ${name}`,
    submitting: "Deleting…",
    cancel: "Cancel",
  },

  deleteOwnProfile: {
    open: "Delete my profile",
    title: "Delete my profile",
    warning: (name: string) =>
      `This deletes your profile ${name} and erases all of its conversations. They cannot be recovered: not with your recovery key, not by an administrator.`,
    password: "Your password",
    passwordMissing: "Enter your password to confirm.",
    codeHint: "Two-step sign-in is on, so deleting the profile also needs a current code.",
    submit: "Delete my profile",
    submitting: "Deleting profile…",
    cancel: "Cancel",
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
    damagedThread: "Unreadable chat",
    damagedMessages: "Some messages cannot be read",
    threadsFailed: (reason: string) => `The chats could not be loaded: ${reason}`,
    newChatFailed: (reason: string) => `A new chat could not be started: ${reason}`,
    retry: "Try again",
    emptyTitle: "Start a conversation",
    emptyIntro: "Choose a chat on the left, or start a new one.",
    // The empty state of a profile without any chat.
    firstChatTitle: "Start your first chat",
    firstChatIntro:
      "Ask anything. Hearth keeps what it learns about you in its memory, which you can read and change under Memory.",
    firstChatStart: "Start a chat",
  },

  // The thread sidebar: date headings, search, and each chat's actions menu.
  sidebar: {
    groups: {
      today: "Today",
      yesterday: "Yesterday",
      previous7Days: "Previous 7 days",
      older: "Older",
    },
    searchLabel: "Search chats",
    searchPlaceholder: "Search chats",
    searchHint: "Finds words in titles and messages. Escape clears the search.",
    searching: "Searching…",
    noResults: (query: string) => `No chats contain “${query}”.`,
    // complete is false while more matches remain to load below the ones shown.
    resultCount: (count: number, complete: boolean) => {
      if (!complete) {
        return `More than ${count} chats found.`;
      }
      return count === 1 ? "1 chat found." : `${count} chats found.`;
    },
    searchFailed: (reason: string) => `The search failed: ${reason}`,
    actionsLabel: "Chat actions",
    rename: "Rename",
    renameLabel: "Chat title",
    renameHint: "Enter saves, Escape cancels.",
    renaming: "Saving the title…",
    renameFailed: (reason: string) => `The chat could not be renamed: ${reason}`,
    exportMarkdown: "Export as Markdown",
    exportJson: "Export as JSON",
    exporting: "Preparing the export…",
    exportFailed: (reason: string) => `The chat could not be exported: ${reason}`,
    delete: "Delete",
    // The toast that offers to undo a deletion before it is sent.
    deletionLabel: "Deleted chat",
    deleted: (title: string) => `Deleted “${title}”.`,
    undo: "Undo",
    deleteFailed: (title: string, reason: string) => `“${title}” could not be deleted, so it is back: ${reason}`,
    dismiss: "Dismiss",
    // The end of a list of chats that has more pages to load.
    loadMore: "Show more chats",
    loadingMore: "Loading more chats…",
    loadMoreFailed: (reason: string) => `More chats could not be loaded: ${reason}`,
    loadMoreRetry: "Try again",
  },

  chat: {
    messagesLabel: "Messages",
    noMessages: "No messages yet. Write the first one below.",
    loadFailed: (reason: string) => `This chat could not be loaded: ${reason}`,
    loadRetry: "Try again",
    jumpToLatest: "Jump to latest",
    // Over the chat while the model server cannot be reached; the reason explains what to do.
    backendProblemRetry: "Try again",
    olderMessagesHidden: (shown: number, total: number) =>
      `Showing the last ${shown} of ${total} messages.`,
    stop: "Stop",
    stopping: "Stopping…",
    connectionClosed: "The connection closed before the reply was complete.",
    unreadableReply: "Hearth sent a reply that this page could not read. Reload the page and try again.",
    serverStopped:
      "Hearth stopped answering before the reply was complete. Check that Hearth is still running. The reply so far is kept: once Hearth is back, choose Continue or Regenerate.",
    actionFailed: (reason: string) => `The reply could not be started: ${reason}`,
    // The chat header's choice of model for one thread.
    modelLabel: "Model for this chat",
    profileModel: (model: string) => (model === "" ? "The profile's model" : `The profile's model (${model})`),
    modelNotListed: (model: string) => `${model} (not on the server)`,
    modelChangeFailed: (reason: string) => `The model could not be changed: ${reason}`,
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
    writingElsewhere: "Writing a reply… It shows here when it is done.",
    stopped: "Stopped",
    interrupted: "Interrupted when Hearth closed",
    failed: "This reply failed.",
    damaged: "This message cannot be read: its record was changed or damaged outside Hearth.",
    continue: "Continue",
    regenerate: "Regenerate",
    retry: "Retry",
    edit: "Edit",
    actionsLabel: "Reply actions",
    versionsLabel: "Versions of this reply",
    previousVersion: "Previous version",
    nextVersion: "Next version",
    versionPosition: (position: number, count: number) => `${position}/${count}`,
    earlierVersion: "An earlier version of this reply. Regenerate replaced it, and it can only be read.",
    // The note under a reply whose prompt was cut to fit the model's context.
    contextTrimmed: (omittedMessages: number, omittedRecalled: number) => {
      const sentences: string[] = [];
      if (omittedMessages > 0) {
        sentences.push(
          omittedMessages === 1
            ? "1 earlier message was left out to fit the model's context."
            : `${omittedMessages} earlier messages were left out to fit the model's context.`,
        );
      }
      if (omittedRecalled > 0) {
        sentences.push(
          omittedRecalled === 1
            ? "1 recalled message was left out to fit the model's context."
            : `${omittedRecalled} recalled messages were left out to fit the model's context.`,
        );
      }
      return sentences.join(" ");
    },
    // While the model's API makes Hearth wait before it tries again.
    backendRetry: (seconds: number) => `The API asked Hearth to wait; retrying in ${seconds} s`,
    downloadModel: (model: string) => `Download ${model}`,
    modelDownloaded: (model: string) => `${model} is downloaded. Retry to get the reply.`,
  },

  // Copy and Fork from here, under every stored message.
  messageActions: {
    copy: "Copy",
    // Accessible name of Copy, which starts with its visible label.
    copyLabel: "Copy message",
    copied: "Copied",
    copyFailed: "Copy failed",
    fork: "Fork from here",
    forkHint: "Opens a new chat with copies of the messages up to this one. This chat stays as it is.",
    forking: "Forking…",
    forkFailed: (reason: string) => `The chat could not be forked: ${reason}`,
  },

  // Replies rendered as Markdown.
  markdown: {
    copyCode: "Copy",
    // Accessible name of a code block's Copy button, which starts with its
    // visible label. language is the one named after the opening fence, or
    // null when none was named.
    copyCodeLabel: (language: string | null) => (language === null ? "Copy code" : `Copy ${language} code`),
    copied: "Copied",
    copyFailed: "Copy failed",
    // A link whose URL is not http, https or mailto, shown as text only.
    inertLink: "Hearth does not open this link, because it opens only web and e-mail links.",
    // An image, which Hearth never loads from its URL: a link to the image, or its description.
    image: (alt: string) => (alt === "" ? "Image" : `Image: ${alt}`),
    taskDone: "Done",
    taskOpen: "Not done",
    footnotes: "Footnotes",
    footnoteBack: (reference: number) => `Back to reference ${reference}`,
    // Names of a code block and of a table that scroll sideways, which the
    // keyboard reaches so that the arrow keys can scroll them.
    scrollingCode: (language: string | null) => (language === null ? "Code" : `${language} code`),
    scrollingTable: "Table",
  },

  // The inline editor of a user message.
  editMessage: {
    label: "Edit your message",
    hint: "Saving sends the changed message in a new chat that starts from this point. This chat stays as it is.",
    save: "Save and send",
    cancel: "Cancel",
    empty: "Type a message to send.",
  },

  // The model's tool calls, shown under a reply.
  tools: {
    listLabel: "Tools the model used",
    updatingMemory: "Updating the working memory…",
    updatedMemory: "Updated the working memory.",
    memoryUpdateFailed: "The working memory was not updated.",
    running: (name: string) => `Using the tool ${name}…`,
    used: (name: string) => `Used the tool ${name}.`,
    failed: (name: string) => `The tool ${name} failed.`,
    reason: (text: string) => `Reason: ${text}`,
  },

  // The notice that the model changed the working memory, with Undo.
  memoryToast: {
    regionLabel: "Notifications",
    title: "Memory updated",
    diffLabel: "Changes to the working memory",
    noChanges: "The text stayed the same.",
    undo: "Undo",
    undoing: "Undoing…",
    undone: "The change was undone.",
    undoConflict:
      "The working memory changed again after this update, so it was not undone. Open Memory to review its history.",
    undoFailed: (reason: string) => `The change could not be undone: ${reason}`,
    dismiss: "Dismiss",
  },

  // The line diff of two versions of a document.
  diff: {
    added: "Added:",
    removed: "Removed:",
  },

  // Download of a model into Ollama, in Settings and under a failed reply.
  pull: {
    starting: "Starting the download…",
    progressLabel: (model: string) => `Download of ${model}`,
    progress: (completed: string, total: string, percent: number) => `${completed} of ${total} (${percent}%)`,
    progressUnknownTotal: (completed: string) => `${completed} downloaded`,
    speed: (bytesPerSecond: string) => `${bytesPerSecond}/s`,
    cancel: "Cancel",
    cancelled: "The download was cancelled.",
    done: (model: string) => `${model} is downloaded.`,
    failed: (reason: string) => `The download failed: ${reason}`,
    unreadable: "Hearth's server sent download progress that could not be read.",
    endedEarly: "The download ended before it was complete. Try again.",
  },

  // The Settings dialog.
  settings: {
    open: "Settings",
    title: "Settings",
    intro: "These settings belong to your profile. Other profiles on this computer keep their own.",
    loading: "Loading the settings…",
    loadFailed: (reason: string) => `The settings could not be loaded: ${reason}`,
    retry: "Try again",
    close: "Close",
    save: "Save settings",
    saving: "Saving…",
    saved: "Settings saved.",
    backendTitle: "Model server",
    kindLegend: "Replies come from",
    kindOllama: "Ollama",
    kindOllamaHint: "An Ollama server, usually on this computer.",
    kindOpenAI: "OpenAI-compatible server",
    kindOpenAIHint:
      "A server with the OpenAI chat completions API. Hearth sends your messages and its memory of you to that server.",
    baseUrl: "Server URL",
    baseUrlOllamaPlaceholder: "http://127.0.0.1:11434",
    baseUrlOpenAIPlaceholder: "https://api.openai.com/v1",
    urlMissing: "Enter the server's URL, such as http://127.0.0.1:11434.",
    urlInvalid: "Enter a URL that starts with http:// or https://.",
    apiKey: "API key",
    apiKeySaved: "A key is saved",
    apiKeyReplace: "Replace",
    apiKeyRemove: "Remove",
    apiKeyKeep: "Keep the saved key",
    apiKeyRemoving: "The saved key is removed when you save.",
    apiKeyNew: "New API key",
    apiKeyMissing: "Enter the new API key, or keep the saved one.",
    apiKeyUrlChanged:
      "The saved key belongs to the saved server URL. With a new URL it is not kept: choose Replace and enter the key for the new server.",
    apiKeyHint: "Leave it empty for a server that needs no key. Hearth never shows a saved key again.",
    model: "Model",
    modelHint: "The list shows the models of the saved server. You can also type a name.",
    modelMissing: "Enter the name of the model, such as llama3.2.",
    modelsRefresh: "Refresh the list",
    modelsLoading: "Loading the models…",
    modelsCount: (count: number) => (count === 1 ? "The server has 1 model." : `The server has ${count} models.`),
    modelsNone: "The server has no models yet.",
    modelsUnreachable: (reason: string) => `Hearth could not list the server's models: ${reason}`,
    downloadTitle: "Download a model",
    downloadName: "Model name",
    downloadHint: "The name of a model in the Ollama library, such as llama3.2 or qwen2.5:7b.",
    downloadButton: "Download",
    downloadNameMissing: "Enter the name of the model to download.",
    generationTitle: "Replies",
    temperature: "Temperature",
    temperatureHint:
      "From 0 to 2. Lower values make replies more predictable, higher ones more varied. Leave it empty for the model's default.",
    temperatureInvalid: "Enter a number from 0 to 2, or leave the field empty.",
    contextLength: "Context length (tokens)",
    contextLengthHint: "How much of the conversation the model reads at once. 0 uses the model's own length.",
    contextLengthInvalid: (min: number, max: number) =>
      `Enter 0, or a whole number of tokens from ${min} to ${max}.`,
    titleModel: "Title model",
    titleModelHint: "The model that names new chats. Leave it empty to use the chat model.",
    systemPrompt: "System prompt",
    systemPromptHint: "Instructions that the model reads before every reply. Leave it empty to use Hearth's default, shown in the field.",
    lastMessages: "Last messages",
    lastMessagesHint: (defaultCount: number) =>
      `How many of the chat's latest messages the model reads with each reply. Leave it empty for the default, ${defaultCount}.`,
    lastMessagesInvalid: (max: number) => `Enter a whole number from 0 to ${max}.`,
    workingMemoryTitle: "Working memory",
    template: "Template",
    templateHint: "The Markdown form that the model fills in about you. Leave it empty to use Hearth's default, shown in the field.",
    scopeLegend: "Keep one working memory",
    scopeResource: "For the whole profile",
    scopeResourceHint: "Every chat reads and updates the same document.",
    scopeThread: "Per chat",
    scopeThreadHint: "Each chat keeps a document of its own.",
    recallTitle: "Memory recall",
    recallIntro:
      "Before each reply, Hearth looks up the earlier messages most like your new one and gives them to the model.",
    recallEnabled: "Recall earlier messages",
    recallEnabledHint:
      "When off, replies use only the chat's latest messages and the working memory. New messages are still indexed, so turning recall on again finds them.",
    topK: "Messages to recall",
    topKHint: (min: number, max: number, defaultCount: number) =>
      `How many of the most similar earlier messages each reply gets, from ${min} to ${max}. Leave it empty for the default, ${defaultCount}.`,
    topKInvalid: (min: number, max: number) => `Enter a whole number from ${min} to ${max}.`,
    messageRange: "Messages around each match",
    messageRangeHint: (max: number, defaultCount: number) =>
      `How many messages before and after each recalled message come with it, from 0 to ${max}. Leave it empty for the default, ${defaultCount}.`,
    messageRangeInvalid: (max: number) => `Enter a whole number from 0 to ${max}.`,
    recallScope: "Search in",
    recallScopeHint: "Recall never searches the chats of other profiles.",
    recallScopeResource: "All chats of this profile",
    recallScopeThread: "Only the chat being answered",
    appearanceTitle: "Appearance",
    themeLegend: "Theme",
    themeSystem: "Same as the system",
    themeSystemHint: "Follows the light or dark mode of your computer, also when it changes.",
    themeLight: "Light",
    themeLightHint: "Dark text on a light background.",
    themeDark: "Dark",
    themeDarkHint: "Light text on a dark background.",
    lockTitle: "Locking",
    idleLock: "Lock after idle minutes",
    idleLockHint: (max: number) =>
      `After this many minutes without use, Hearth locks your profile and asks for your password again. 0 never locks; the most is ${max} (one week).`,
    idleLockInvalid: (max: number) => `Enter 0 for never, or a whole number of minutes up to ${max}.`,
    idleLockFailed: (reason: string) => `The settings were saved, but the idle lock was not: ${reason}`,
  },

  // The Security section of the Settings dialog: turning two-step sign-in
  // on and off, and the backup codes.
  security: {
    title: "Security",
    explanation:
      "With two-step sign-in, Hearth asks for a code from an authenticator app on your phone after your password. Someone who saw you type your password still cannot open this profile.",
    loading: "Loading the state of two-step sign-in…",
    loadFailed: (reason: string) => `The state of two-step sign-in could not be loaded: ${reason}`,
    retry: "Try again",
    statusOff: "Two-step sign-in is off.",
    statusOn: "Two-step sign-in is on.",
    backupCodesLeft: (count: number) => (count === 1 ? "1 backup code left." : `${count} backup codes left.`),
    noBackupCodesLeft:
      "No backup codes are left. Create new ones, so that you can still sign in when you do not have your phone.",
    turnOn: "Turn on two-step sign-in",
    preparing: "Preparing…",
    prepareFailed: (reason: string) => `Two-step sign-in could not be prepared: ${reason}`,
    alreadyOn: "Two-step sign-in was already on, turned on from another window.",

    enrolTitle: "Add Hearth to your authenticator app",
    scanStep: "Scan this QR code with the authenticator app on your phone.",
    qrAlt: "QR code that adds Hearth to an authenticator app",
    secretStep:
      "If you cannot scan it, add an entry by hand with this key, as a time-based code of 6 digits every 30 seconds.",
    secretLabel: "Key",
    copySecret: "Copy key",
    secretCopied: "The key was copied to the clipboard.",
    secretCopyFailed: "The key could not be copied. Select it above and copy it yourself.",
    firstCodeHint: "Enter the code the app now shows for Hearth, to check that the app has the key.",
    signsOutOthers: "Turning it on signs this profile out everywhere else.",
    enable: "Turn on",
    enabling: "Turning on…",
    cancel: "Cancel",

    codesTitle: "Save your backup codes",
    newCodesTitle: "Save your new backup codes",
    codesIntro:
      "Each backup code signs you in once in place of a code from the app, for example when you do not have your phone. Hearth shows them only now: it cannot show them again.",
    codesReplaced: "Your old backup codes no longer work. Only these new ones do.",
    codesLabel: "Backup codes",
    copyCodes: "Copy",
    codesCopied: "The backup codes were copied to the clipboard.",
    codesCopyFailed: "The backup codes could not be copied. Select them above and copy them yourself.",
    saveCodes: "Save",
    codesSaved: "The backup codes were saved in a file.",
    codesDownloaded: "The backup codes were downloaded as a file.",
    codesSaveCancelled: "Saving was cancelled, so no file was written.",
    codesSaveFailed: (reason: string) => `The backup codes could not be saved: ${reason}`,
    codesWarning:
      "Keep them somewhere safe and apart from your phone, such as in a password manager or on paper. Anyone who has your password and one of these codes can open this profile. If you lose your phone and these codes, only your recovery key opens the profile, and using it turns two-step sign-in off.",
    codesConfirm: "I have saved my backup codes",
    codesDone: "Done",
    codesFileName: "hearth-backup-codes.txt",
    codesFileHeading: (name: string, createdOn: string) => `Hearth backup codes for ${name}, created on ${createdOn}`,
    codesFileNote:
      "Each code signs in once in place of a code from the authenticator app. Keep this file apart from your phone.",
    // The question before the Settings dialog closes with the codes unsaved.
    discardCodesQuestion: "Your backup codes are not saved, and Hearth cannot show them again. Close anyway?",
    discardCodes: "Close without saving",
    enabled: "From now on, Hearth asks for a code from the app after your password.",

    password: "Your password",
    passwordMissing: "Enter your password.",
    turnOff: "Turn off two-step sign-in",
    turnOffIntro:
      "Without two-step sign-in, your password alone opens this profile. Enter your password and a current code to turn it off.",
    turnOffSubmit: "Turn off",
    turningOff: "Turning off…",
    turnedOff: "Two-step sign-in is off. You can delete the entry for Hearth in your authenticator app.",
    newCodes: "New backup codes",
    newCodesIntro:
      "New backup codes replace the ones you have, which stop working at once. Enter your password and a current code to create them.",
    newCodesSubmit: "Create new backup codes",
    creatingCodes: "Creating backup codes…",
  },

  // The working memory section of the Memory dialog.
  workingMemory: {
    title: "Working memory",
    intro:
      "What the model keeps in mind about you. It reads this document before each reply and may update it. You can change it here too.",
    threadScope: "Each chat keeps its own working memory. This is the one of the open chat.",
    noThread: "Each chat keeps its own working memory. Open a chat to see its document.",
    loading: "Loading the working memory…",
    loadFailed: (reason: string) => `The working memory could not be loaded: ${reason}`,
    retry: "Try again",
    label: "Document (Markdown)",
    version: (version: number) => `Version ${version}`,
    save: "Save",
    saving: "Saving…",
    saved: (version: number) => `Saved as version ${version}.`,
    saveFailed: (reason: string) => `The working memory could not be saved: ${reason}`,
    conflict:
      "The working memory was changed somewhere else, for example by the model during a reply, since you opened it. Your text was not saved.",
    reload: "Load the latest version",
    // Asked before the latest version replaces text that the user typed.
    reloadConfirm:
      "Loading the latest version replaces the text you typed, which is not saved. Copy it first if you want to keep it.",
    reloadReplace: "Replace my text",
    reloadKeep: "Keep my text",
    damaged: "The stored working memory cannot be read: its record was changed or damaged outside Hearth.",
    historyTitle: "History",
    historyEmpty: "There are no earlier versions yet.",
    historyLoading: "Loading the history…",
    historyFailed: (reason: string) => `The history could not be loaded: ${reason}`,
    historyItem: (version: number, date: string) => `Version ${version}, ${date}`,
    firstVersion: "The first version: every line is new.",
    revert: "Revert to this version",
    revertLabel: (version: number) => `Revert to version ${version}`,
    reverting: "Reverting…",
    reverted: (version: number) => `Reverted. The text of version ${version} is now the current version.`,
    revertFailed: (reason: string) => `The version could not be restored: ${reason}`,
  },

  // Under a reply: the earlier messages that recall found for it.
  usedMemories: {
    summary: (count: number) => `Used memories (${count})`,
    listLabel: "Earlier messages recalled for this reply",
    similarity: (percent: string) => `${percent} similar`,
    untitledThread: "Untitled chat",
  },

  // The Memory dialog: the recall status and the choice of embedder.
  memory: {
    open: "Memory",
    title: "Memory",
    intro:
      "Before each reply, Hearth recalls the earlier messages of your chats that are most like your new one, and gives them to the model. Recall searches only this profile's chats.",
    loadFailed: (reason: string) => `The memory settings could not be loaded: ${reason}`,
    retry: "Try again",
    close: "Close",
    statusTitle: "Recall",
    stateLabel: "State",
    states: {
      locked: "Locked",
      loading: "Loading…",
      ready: "Ready",
      failed: "Failed to load",
    },
    vectorsLabel: "Messages remembered",
    pendingLabel: "Waiting to be embedded",
    embedderLabel: "Embedder",
    embedderId: (id: string, dimension: number) => (dimension > 0 ? `${id}, ${dimension} dimensions` : id),
    // total is 0 until the server has counted the messages.
    reembedding: (done: number, total: number) =>
      total > 0 ? `Embedding your messages again: ${done} of ${total}` : "Embedding your messages again…",
    reembeddingNote: (from: string) =>
      `Until this finishes, recall keeps using the vectors of the previous embedder (${from}).`,
    reembedded: (embedder: string) => `Every message is now embedded with ${embedder}.`,
    lastError: (reason: string) => `Embedding failed: ${reason} Hearth tries again automatically.`,
    lexicalNote:
      "The built-in embedder matches words, not meaning: it finds earlier messages that use the same words as your new one, but misses those that say the same thing in other words.",
    lexicalSuggestion: "For recall by meaning, install an embedding model in Ollama, then choose Ollama below:",
    pullCommand: (model: string) => `ollama pull ${model}`,
  },

  embedder: {
    title: "Embedder",
    kindLegend: "Embed messages with",
    builtin: "Built-in (offline)",
    builtinHint: "Needs no model and no network. Matches words, not meaning.",
    ollama: "Ollama",
    ollamaHint: "An embedding model on an Ollama server. Matches meaning.",
    openai: "OpenAI-compatible server",
    openaiHint:
      "A server with the OpenAI embeddings API. Hearth sends the text of your messages to that server to embed them.",
    ollamaModel: "Model",
    ollamaModelHint: (model: string) => `Ollama must have the model. Install it with: ollama pull ${model}`,
    ollamaUrl: "Ollama server URL (optional)",
    ollamaUrlHint: "Leave it empty to use the Ollama server that Hearth chats with.",
    openaiUrl: "Base URL",
    openaiUrlPlaceholder: "https://api.openai.com/v1",
    openaiModel: "Model",
    openaiModelPlaceholder: "text-embedding-3-small",
    apiKey: "API key",
    apiKeyStored: "A key is stored for this server. Leave this field empty to keep it.",
    apiKeyStoredElsewhere: (baseUrl: string) =>
      `A key is stored only for ${baseUrl}. Enter the key for this server, or leave this field empty if it needs none.`,
    apiKeyNone: "Leave this field empty for a server that needs no key.",
    dimensions: "Dimensions (optional)",
    dimensionsHint:
      "Asks the server for shorter vectors, for models that support it. Leave it empty for the model's own length.",
    submit: "Use this embedder",
    submitting: "Testing the embedder…",
    urlMissing: "Enter the server's base URL, such as https://api.openai.com/v1.",
    urlInvalid: "Enter a URL that starts with http:// or https://.",
    modelMissing: "Enter the name of the embedding model, such as text-embedding-3-small.",
    dimensionsInvalid: "Enter a whole number greater than 0, or leave the field empty.",
    chosen: (description: string) => `Saved. Embedder: ${description}.`,
    // How the status and the notices name the chosen embedder.
    describeBuiltin: "Built-in (offline)",
    describeOllama: (model: string) => `Ollama, model ${model}`,
    describeOpenAI: (model: string, baseUrl: string) => `OpenAI-compatible server, model ${model} at ${baseUrl}`,
  },

  // The keyboard shortcuts of the workspace and the dialog that lists them.
  // shortcuts.ts defines the keys of each one.
  shortcuts: {
    open: "Keyboard shortcuts",
    openLabel: "?",
    title: "Keyboard shortcuts",
    intro: "These keys work anywhere in Hearth while no dialog is open.",
    textFieldNote: "The single keys ? and / work only while the focus is not in a text field.",
    actionColumn: "Action",
    keysColumn: "Keys",
    actions: {
      newChat: "Start a new chat",
      searchChats: "Search chats",
      previousChat: "Open the previous chat in the list",
      nextChat: "Open the next chat in the list",
      stopReply: "Stop the reply being written",
      focusComposer: "Go to the message field",
      openSettings: "Open Settings",
      showShortcuts: "Show this list",
    },
    stopInComposer: "or Esc in the message field",
    // Key names as printed on the keys. "primary" is Ctrl, or Command on a Mac.
    keys: {
      control: "Ctrl",
      command: "⌘",
      shift: "Shift",
      alt: "Alt",
      option: "Option",
      arrowUp: "↑",
      arrowDown: "↓",
      backspace: "Backspace",
      escape: "Esc",
    },
    // Read between two keys pressed together, as in "Ctrl + K".
    plus: "+",
    close: "Close",
  },

  // The confirmation a dialog shows before Escape or Close throws away changes.
  unsavedChanges: {
    question: "You have unsaved changes. Discard them?",
    keepEditing: "Keep editing",
    discard: "Discard changes",
  },

  errors: {
    network: "Hearth's server could not be reached. Check that Hearth is still running.",
    invalidResponse: "Hearth's server sent a response that could not be read.",
    noSession: "This tab has no session. Sign in.",
    httpStatus: (status: number) => `The request failed with HTTP status ${status}.`,
  },
} as const;
