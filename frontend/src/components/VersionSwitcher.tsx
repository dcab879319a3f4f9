import { strings } from "../strings.ts";

interface VersionSwitcherProps {
  /** Position of the version shown, from 1 (the oldest) to count (the current one). */
  position: number;
  count: number;
  onChange: (position: number) => void;
}

/** Browses the versions of a regenerated reply: "< 2/2 >". */
export function VersionSwitcher({ position, count, onChange }: VersionSwitcherProps) {
  return (
    <div className="version-switcher" role="group" aria-label={strings.message.versionsLabel}>
      <button
        type="button"
        className="version-step"
        aria-label={strings.message.previousVersion}
        disabled={position <= 1}
        onClick={() => onChange(position - 1)}
      >
        {"<"}
      </button>
      <span className="version-position" aria-live="polite">
        {strings.message.versionPosition(position, count)}
      </span>
      <button
        type="button"
        className="version-step"
        aria-label={strings.message.nextVersion}
        disabled={position >= count}
        onClick={() => onChange(position + 1)}
      >
        {">"}
      </button>
    </div>
  );
}
