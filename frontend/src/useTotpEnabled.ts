import { useCallback, useEffect, useState } from "react";

import { getMe } from "./api.ts";

/**
 * Returns whether two-step sign-in is on for the signed-in profile, read
 * from GET /api/auth/me when the form mounts, and markEnabled. markEnabled
 * turns it on for the form when the server responds with `code_required`,
 * because another window turned it on since. Until the profile loads, and
 * when it fails to load, enabled is false.
 */
export function useTotpEnabled(): { enabled: boolean; markEnabled: () => void } {
  const [enabled, setEnabled] = useState(false);

  useEffect(() => {
    let active = true;
    getMe().then(
      (me) => {
        if (active && me.totpEnabled === true) {
          setEnabled(true);
        }
      },
      // The server's code_required still shows the code field if it is needed.
      () => undefined,
    );
    return () => {
      active = false;
    };
  }, []);

  const markEnabled = useCallback(() => setEnabled(true), []);
  return { enabled, markEnabled };
}
