import { updateWorkingMemoryTool } from "../chatMessages.ts";
import type { ToolActivity } from "../replyStore.ts";
import { strings } from "../strings.ts";

interface ToolActivityListProps {
  tools: readonly ToolActivity[];
}

/** Lists, under a reply, the tools that the model called for it and how each call ended. */
export function ToolActivityList({ tools }: ToolActivityListProps) {
  if (tools.length === 0) {
    return null;
  }
  return (
    <ul className="tool-activity" aria-label={strings.tools.listLabel}>
      {tools.map((tool) => (
        <li key={tool.toolCallId} data-state={tool.state}>
          {describe(tool)}
          {tool.state === "failed" && tool.errorText !== undefined && tool.errorText !== "" && (
            <span className="tool-reason"> {strings.tools.reason(tool.errorText)}</span>
          )}
        </li>
      ))}
    </ul>
  );
}

function describe(tool: ToolActivity): string {
  if (tool.toolName === updateWorkingMemoryTool) {
    switch (tool.state) {
      case "running":
        return strings.tools.updatingMemory;
      case "done":
        return strings.tools.updatedMemory;
      case "failed":
        return strings.tools.memoryUpdateFailed;
    }
  }
  switch (tool.state) {
    case "running":
      return strings.tools.running(tool.toolName);
    case "done":
      return strings.tools.used(tool.toolName);
    case "failed":
      return strings.tools.failed(tool.toolName);
  }
}
