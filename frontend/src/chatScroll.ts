// When the message list follows new text, and when it offers to jump to it.

/**
 * Distance from the bottom, in CSS pixels, within which the message list
 * counts as scrolled to the end: new text keeps it there, and the Jump to
 * latest button stays hidden.
 */
export const stickToBottomThreshold = 48;

/** The scroll position of an element, as its scrollTop, scrollHeight and clientHeight give it. */
export interface ScrollMetrics {
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
}

/**
 * Reports whether the element is scrolled to within threshold pixels of its
 * end. A list too short to scroll always is.
 */
export function isNearBottom(metrics: ScrollMetrics, threshold: number = stickToBottomThreshold): boolean {
  return metrics.scrollHeight - metrics.scrollTop - metrics.clientHeight < threshold;
}
