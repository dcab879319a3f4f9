import { useEffect, useLayoutEffect, useState, type RefObject } from "react";

/**
 * Reports whether an element is wider inside than its box, so that it
 * scrolls sideways, such as a reply's long code line or wide table. It
 * checks after every render, because a reply being written grows its
 * content, and whenever the element's box is resized.
 */
export function useHorizontalScroll(element: RefObject<HTMLElement | null>): boolean {
  const [scrolls, setScrolls] = useState(false);

  // No dependencies: the content may have changed in any render.
  useLayoutEffect(() => {
    const target = element.current;
    if (target !== null) {
      setScrolls(overflowsSideways(target));
    }
  });

  useEffect(() => {
    const target = element.current;
    if (target === null || typeof ResizeObserver === "undefined") {
      return;
    }
    const observer = new ResizeObserver(() => setScrolls(overflowsSideways(target)));
    observer.observe(target);
    return () => observer.disconnect();
  }, [element]);

  return scrolls;
}

function overflowsSideways(element: HTMLElement): boolean {
  return element.scrollWidth > element.clientWidth;
}
